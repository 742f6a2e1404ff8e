"""Landing files: one folder per entity under the landing directory."""
