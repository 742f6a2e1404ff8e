"""Jobs, with the schedules and sensors that start them."""
