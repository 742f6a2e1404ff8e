"""Vectorised simulation of customers and what they do: sign-ups, purchases, contacts, surveys.

Purchases follow the BG/NBD story (Fader, Hardie & Lee 2005), so that the
predictive CLV models fitted later have the structure they assume:

- each customer has a purchase rate lambda ~ Gamma and a dropout probability
  p ~ Beta (both shifted a little by acquisition channel);
- the first purchase comes shortly after sign-up; after every purchase the
  customer drops out with probability p, so the number of purchases K is
  Geometric(p) with support >= 1; gaps between purchases are Exponential(lambda);
- whatever would happen after the end date is cut.

Spend has its own per-customer Gamma multiplier (for a Gamma-Gamma model),
complaints cluster before a churner's last purchase and survey scores fall
with the dropout probability, so churn can be predicted from the data.

Nothing loops over rows: per-customer draws are expanded with `np.repeat`
and accumulated with cumulative sums minus group offsets. A batch of
customers becomes five Arrow tables in the *staged* layout (integer ids, cents,
epoch-second timestamps, dictionary-encoded text); `rendering` turns those
into the source contract's columns when the files are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

from ingestion.demo import vocabulary as vocab

SECONDS_PER_DAY = 86_400
SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY

# Local hour-of-day profiles (relative weights for 0h..23h): shoppers buy at
# lunchtime and in the evening, sales reps work office hours.
SHOPPING_HOURS = np.array([0.5, 0.25, 0.12, 0.08, 0.08, 0.15, 0.4, 0.9, 1.6, 2.4, 3.0, 3.2,
                           3.0, 2.8, 2.9, 3.0, 2.9, 2.7, 2.6, 3.0, 3.4, 3.5, 2.6, 1.3])
OFFICE_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0.2, 1.0, 3.0, 3.5, 3.3,
                         1.5, 2.5, 3.4, 3.3, 3.0, 2.5, 1.0, 0.4, 0.2, 0.1, 0, 0])
# Sign-ups by calendar month: the Chinese New Year dip in February, the 618
# festival in June, and the run-up to Singles' Day (11.11) and 12.12.
ACQUISITION_SEASON = np.array([0.95, 0.65, 0.95, 1.0, 1.05, 1.2, 0.95, 0.95, 1.05, 1.25, 1.55, 1.3])
ACQUISITION_WEEKDAY = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.95, 1.0])  # Monday first


@dataclass(frozen=True)
class BehaviourParameters:
    """The knobs of the simulation; the defaults give ~10 orders per customer over three years."""

    history_years: int = 3
    acquisition_growth_per_year: float = 0.5  # sign-ups grow ~65 % a year (exp(0.5))
    chinese_share: float = 0.6
    never_buyer_share: float = 0.03
    # Dropout p ~ Beta(a, b) (mean 0.23), scaled by the channel's dropout factor. A < 1 gives the
    # long tail of loyal heavy buyers that lifts the mean to ~10 orders while the median stays ~3.
    dropout_beta_a: float = 0.6
    dropout_beta_b: float = 2.0
    # Purchase rate lambda ~ Gamma(shape, mean / shape) per day, scaled by the channel's rate factor;
    # shape 1 makes slow buyers common enough for 25-30 % one-time buyers.
    rate_gamma_shape: float = 1.0
    rate_mean_per_day: float = 1 / 7
    # Spend multiplier ~ Gamma(shape, 1 / shape) (mean 1): skews product choice and quantity.
    spend_gamma_shape: float = 3.0
    first_purchase_quick_share: float = 0.7
    first_purchase_quick_days: float = 1.5
    first_purchase_slow_days: float = 20.0
    extra_lines_mean: float = 0.8
    extra_quantity_mean: float = 0.3
    line_discount_share: float = 0.10
    order_discount_share: float = 0.20
    cancelled_share: float = 0.05
    refunded_share: float = 0.03
    pending_window_days: float = 7.0
    duplicate_customer_share: float = 0.02
    contacts_per_year: float = 2.0
    complaint_share_of_churners: float = 0.35
    nps_share_of_orders: float = 0.15
    csat_share_of_orders: float = 0.04
    csat_share_of_tickets: float = 0.6
    comment_share: float = 0.55

    @property
    def dropout_mean(self) -> float:
        """Mean of the Beta distribution of the dropout probability (before channel factors)."""
        return self.dropout_beta_a / (self.dropout_beta_a + self.dropout_beta_b)


@dataclass(frozen=True)
class Timeline:
    """The simulated period: sign-ups from `start`, everything strictly before `horizon` (epoch seconds, UTC)."""

    start: int
    horizon: int

    @classmethod
    def ending(cls, end_date: date, years: int) -> Timeline:
        """The `years` years (in whole days) that end with `end_date` (inclusive, UTC)."""
        horizon = datetime.combine(end_date + timedelta(days=1), datetime.min.time(), timezone.utc)
        start = horizon - timedelta(days=round(365.25 * years))
        return cls(int(start.timestamp()), int(horizon.timestamp()))

    @property
    def days(self) -> int:
        """Number of days on which customers can sign up."""
        return (self.horizon - self.start) // SECONDS_PER_DAY


@dataclass(frozen=True)
class Catalog:
    """The product catalog: product_id = index + 1; prices in cents."""

    category: np.ndarray  # index into vocabulary.PRODUCT_CATEGORIES
    price_cents: np.ndarray
    by_price: np.ndarray  # product indices, cheapest first
    cumulative_popularity: np.ndarray  # over `by_price`, ends at 1.0


def build_catalog(rng: np.random.Generator) -> Catalog:
    """Draw ~300 products in ~10 categories with lognormal prices and Zipf-like popularity."""
    per_category = vocab.PRODUCTS_PER_CATEGORY
    categories = np.repeat(np.arange(len(vocab.PRODUCT_CATEGORIES)), per_category)
    medians = np.array([median for _, median in vocab.PRODUCT_CATEGORIES])[categories]
    prices = np.round(medians * rng.lognormal(0.0, 0.6, categories.size), 0) - 0.01  # CNY 99.99 style
    price_cents = np.maximum(np.round(prices * 100), 199).astype(np.int64)
    popularity = 1.0 / rng.permutation(np.arange(1, categories.size + 1)) ** 0.8
    by_price = np.argsort(price_cents, kind="stable")
    cumulative = np.cumsum(popularity[by_price])
    return Catalog(categories, price_cents, by_price, cumulative / cumulative[-1])


@dataclass(frozen=True)
class FirstIds:
    """The first integer id to use for each generated key in a batch (ids continue across batches)."""

    customer: int
    order: int
    interaction: int
    response: int


@dataclass(frozen=True)
class Batch:
    """One batch of simulated source rows, as staged Arrow tables (one per entity)."""

    customers: pa.Table
    orders: pa.Table
    order_items: pa.Table
    interactions: pa.Table
    survey_responses: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """The staged tables by entity name."""
        return {
            "customers": self.customers,
            "interactions": self.interactions,
            "orders": self.orders,
            "order_items": self.order_items,
            "survey_responses": self.survey_responses,
        }


def simulate_batch(
    rng: np.random.Generator,
    customers: int,
    first_ids: FirstIds,
    timeline: Timeline,
    catalog: Catalog,
    params: BehaviourParameters = BehaviourParameters(),
) -> Batch:
    """Simulate `customers` customers and everything they do; return the staged tables."""
    people = _simulate_customers(rng, customers, timeline, params)
    purchases = _simulate_purchases(rng, people, timeline, params)
    lines = _simulate_lines(rng, people, purchases, catalog, params)
    contacts = _simulate_interactions(rng, people, purchases, timeline, params)
    return Batch(
        customers=_customer_table(rng, people, first_ids, timeline, params),
        orders=_order_table(rng, people, purchases, lines, first_ids, timeline, params),
        order_items=_line_table(lines, purchases, first_ids),
        interactions=_interaction_table(rng, people, contacts, first_ids, timeline),
        survey_responses=_survey_table(rng, people, purchases, contacts, first_ids, timeline, params),
    )


# --- customers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    """Per-customer draws (arrays of length n)."""

    chinese: np.ndarray
    place: np.ndarray  # index into _PLACES
    channel: np.ndarray
    industry: np.ndarray
    created: np.ndarray  # epoch seconds
    dropout: np.ndarray  # BG/NBD p
    rate: np.ndarray  # BG/NBD lambda, purchases per day
    spend: np.ndarray  # spend multiplier, mean 1
    never_buys: np.ndarray
    dropout_z: np.ndarray  # standardised dropout probability, drives satisfaction

    @property
    def size(self) -> int:
        return self.chinese.size

    @property
    def utc_offset(self) -> np.ndarray:
        return _PLACE_OFFSETS[self.place] * 3600


_PLACES = vocab.CHINESE_PLACES + vocab.INTERNATIONAL_PLACES
_PLACE_OFFSETS = np.array([p.utc_offset_hours for p in _PLACES], dtype=np.int64)
_COUNTRIES = tuple(dict.fromkeys(p.country for p in _PLACES))
_PLACE_COUNTRY = np.array([_COUNTRIES.index(p.country) for p in _PLACES])


def _weights(values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _local_daytime(rng: np.random.Generator, size: int, profile: np.ndarray) -> np.ndarray:
    """Seconds after local midnight, drawn from an hour-of-day profile."""
    hours = rng.choice(24, size=size, p=_weights(profile))
    return hours * 3600 + rng.integers(0, 3600, size)


def _at_local_daytime(rng: np.random.Generator, moments: np.ndarray, offsets: np.ndarray,
                      profile: np.ndarray) -> np.ndarray:
    """Move each moment (epoch seconds) to a typical local time of day on the same local date.

    The result is UTC: for Chinese customers local evening is UTC noon and local
    early morning falls on the previous UTC day, which is what real data looks like.
    """
    local_day = np.floor_divide(moments.astype(np.int64) + offsets, SECONDS_PER_DAY)
    return local_day * SECONDS_PER_DAY + _local_daytime(rng, moments.size, profile) - offsets


def _simulate_customers(rng: np.random.Generator, n: int, timeline: Timeline,
                        params: BehaviourParameters) -> _People:
    chinese = rng.random(n) < params.chinese_share
    cn_place = rng.choice(len(vocab.CHINESE_PLACES), n, p=_weights([p.weight for p in vocab.CHINESE_PLACES]))
    intl_place = rng.choice(len(vocab.INTERNATIONAL_PLACES), n,
                            p=_weights([p.weight for p in vocab.INTERNATIONAL_PLACES]))
    place = np.where(chinese, cn_place, len(vocab.CHINESE_PLACES) + intl_place)
    channel = rng.choice(len(vocab.CHANNELS), n, p=_weights([c.share for c in vocab.CHANNELS]))
    industry = rng.choice(len(vocab.INDUSTRIES), n, p=_weights([i.weight for i in vocab.INDUSTRIES]))

    # Sign-up day: growth times seasonality times weekday, over the whole history.
    days = np.arange(timeline.days)
    dates = np.datetime64(timeline.start, "s").astype("datetime64[D]") + days
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    day_weight = (np.exp(params.acquisition_growth_per_year * days / 365.25)
                  * ACQUISITION_SEASON[month] * ACQUISITION_WEEKDAY[weekday])
    signup_day = rng.choice(timeline.days, n, p=_weights(day_weight))
    offsets = _PLACE_OFFSETS[place] * 3600
    created = (timeline.start + signup_day * SECONDS_PER_DAY
               + _local_daytime(rng, n, OFFICE_HOURS + SHOPPING_HOURS) - offsets)
    # A local evening sign-up on the last day can be tomorrow in UTC; keep it inside the history.
    created = np.where(created >= timeline.horizon, created - SECONDS_PER_DAY, created)

    dropout_factor = np.array([c.dropout_factor for c in vocab.CHANNELS])[channel]
    rate_factor = np.array([c.rate_factor for c in vocab.CHANNELS])[channel]
    dropout = np.clip(rng.beta(params.dropout_beta_a, params.dropout_beta_b, n) * dropout_factor, 0.005, 0.95)
    rate = rng.gamma(params.rate_gamma_shape, params.rate_mean_per_day / params.rate_gamma_shape, n) * rate_factor
    spend = rng.gamma(params.spend_gamma_shape, 1.0 / params.spend_gamma_shape, n)
    # Satisfaction is tied to the *population* distribution of p, not the batch's, so batches agree.
    a, b = params.dropout_beta_a, params.dropout_beta_b
    beta_mean, beta_sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return _People(
        chinese=chinese, place=place, channel=channel, industry=industry, created=created,
        dropout=dropout, rate=rate, spend=spend, never_buys=rng.random(n) < params.never_buyer_share,
        dropout_z=(dropout - beta_mean) / beta_sd,
    )


_FAMILY_TEXT = tuple(s for s, _, _ in vocab.CHINESE_SURNAMES) + vocab.ENGLISH_LAST_NAMES
_FAMILY_LATIN = tuple(p.capitalize() for _, p, _ in vocab.CHINESE_SURNAMES) + vocab.ENGLISH_LAST_NAMES
_GIVEN_TEXT = tuple(g for g, _ in vocab.CHINESE_GIVEN_NAMES) + vocab.ENGLISH_FIRST_NAMES
_GIVEN_LATIN = tuple(p.capitalize() for _, p in vocab.CHINESE_GIVEN_NAMES) + vocab.ENGLISH_FIRST_NAMES
_DOMAINS = vocab.CHINESE_EMAIL_DOMAINS + vocab.ENGLISH_EMAIL_DOMAINS
_OWNERS = vocab.CHINESE_ACCOUNT_OWNERS + vocab.ENGLISH_ACCOUNT_OWNERS
_COMPANIES = vocab.chinese_company_names() + vocab.english_company_names()


def text_column(indices: np.ndarray, dictionary: tuple[str, ...]) -> pa.DictionaryArray:
    """An Arrow dictionary array: the text lives once in `dictionary`, rows hold int32 indices."""
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(dictionary, pa.string()))


def timestamp_column(seconds: np.ndarray) -> pa.Array:
    """A timestamp[s] column (UTC wall clock, no zone: rendering adds the zone)."""
    return pa.array(seconds.astype(np.int64), pa.timestamp("s"))


def _customer_table(rng: np.random.Generator, people: _People, first_ids: FirstIds, timeline: Timeline,
                    params: BehaviourParameters) -> pa.Table:
    """The CRM export: one row per customer plus an older version of ~2 % of them."""
    n = people.size
    chinese = people.chinese
    n_cn_family, n_cn_given = len(vocab.CHINESE_SURNAMES), len(vocab.CHINESE_GIVEN_NAMES)
    family = np.where(
        chinese,
        rng.choice(n_cn_family, n, p=_weights([w for _, _, w in vocab.CHINESE_SURNAMES])),
        n_cn_family + rng.integers(0, len(vocab.ENGLISH_LAST_NAMES), n),
    )
    given = np.where(chinese, rng.integers(0, n_cn_given, n),
                     n_cn_given + rng.integers(0, len(vocab.ENGLISH_FIRST_NAMES), n))
    domain = np.where(chinese, rng.integers(0, len(vocab.CHINESE_EMAIL_DOMAINS), n),
                      len(vocab.CHINESE_EMAIL_DOMAINS) + rng.integers(0, len(vocab.ENGLISH_EMAIL_DOMAINS), n))
    email_tag = rng.integers(1, 1000, n)
    has_tag = rng.random(n) < 0.75

    country = _PLACE_COUNTRY[people.place]
    phone_format = np.empty(n, dtype=np.int64)
    phone_digits = np.empty((3, n), dtype=np.int64)
    formats = list(dict.fromkeys(fmt for fmt, _ in vocab.PHONE_FORMATS.values()))
    for c, name in enumerate(_COUNTRIES):  # a handful of countries, not rows
        fmt, ranges = vocab.PHONE_FORMATS[name]
        mask = country == c
        phone_format[mask] = formats.index(fmt)
        for slot, (low, high) in enumerate(ranges):
            phone_digits[slot, mask] = rng.integers(low, high, int(mask.sum()))

    n_ind = len(vocab.INDUSTRIES)
    company = rng.integers(0, len(vocab.CHINESE_COMPANY_STEMS), n) * n_ind + people.industry
    company = np.where(chinese, company, len(vocab.CHINESE_COMPANY_STEMS) * n_ind + company)
    n_cn_owners = len(vocab.CHINESE_ACCOUNT_OWNERS)
    n_en_owners = len(vocab.ENGLISH_ACCOUNT_OWNERS)
    owner = np.where(chinese, rng.integers(0, n_cn_owners, n), n_cn_owners + rng.integers(0, n_en_owners, n))

    # Most records were edited at some point after sign-up; updated_at stays within the history.
    span = (timeline.horizon - 1) - people.created
    edited = rng.random(n) < 0.65
    updated = people.created + np.where(edited, (rng.random(n) ** 2 * span).astype(np.int64), 0)

    # ~2 % appear twice: an older version (earlier updated_at, another account owner and,
    # for Chinese customers, half the time another city) and the latest one.
    twice = (rng.random(n) < params.duplicate_customer_share) & (span > 2 * SECONDS_PER_DAY)
    latest_updated = people.created + ((0.5 + 0.5 * rng.random(n)) * span).astype(np.int64)
    older_updated = people.created + ((0.05 + 0.4 * rng.random(n)) * span).astype(np.int64)
    updated = np.where(twice, latest_updated, updated)
    older = np.flatnonzero(twice)
    owner_group_start = np.where(chinese[older], 0, n_cn_owners)
    owner_group_size = np.where(chinese[older], n_cn_owners, n_en_owners)
    older_owner = owner_group_start + (owner[older] - owner_group_start
                                       + rng.integers(1, owner_group_size)) % owner_group_size
    n_cn_places = len(vocab.CHINESE_PLACES)
    moved = chinese[older] & (rng.random(older.size) < 0.5)
    older_place = np.where(moved, (people.place[older] + rng.integers(1, n_cn_places, older.size)) % n_cn_places,
                           people.place[older])

    # Rows: every latest version, then the older versions, sorted so each older version precedes its latest.
    rows = np.concatenate([np.arange(n), older])
    is_older = np.concatenate([np.zeros(n, bool), np.ones(older.size, bool)])
    order = np.lexsort((~is_older, rows))
    rows, is_older = rows[order], is_older[order]
    older_slot = np.cumsum(is_older) - 1  # position within `older` for the older-version rows

    def pick(latest: np.ndarray, older_values: np.ndarray) -> np.ndarray:
        """Per output row: the older value on older-version rows, else the customer's latest value."""
        if older.size == 0:
            return latest[rows]
        return np.where(is_older, older_values[np.clip(older_slot, 0, None)], latest[rows])

    place = pick(people.place, older_place)
    return pa.table({
        "customer_id": pa.array(first_ids.customer + rows, pa.int64()),
        "is_chinese": pa.array(chinese[rows]),
        "family_name": text_column(family[rows], _FAMILY_TEXT),
        "given_name": text_column(given[rows], _GIVEN_TEXT),
        "family_latin": text_column(family[rows], _FAMILY_LATIN),
        "given_latin": text_column(given[rows], _GIVEN_LATIN),
        "email_tag": pa.array(email_tag[rows], pa.int32(), mask=~has_tag[rows]),
        "email_domain": text_column(domain[rows], _DOMAINS),
        "phone_format": text_column(phone_format[rows], tuple(formats)),
        "phone_a": pa.array(phone_digits[0, rows], pa.int32()),
        "phone_b": pa.array(phone_digits[1, rows], pa.int32()),
        "phone_c": pa.array(phone_digits[2, rows], pa.int32()),
        "company": text_column(company[rows], _COMPANIES),
        "industry": text_column(people.industry[rows], tuple(i.name for i in vocab.INDUSTRIES)),
        "country": text_column(_PLACE_COUNTRY[place], _COUNTRIES),
        "city": text_column(place, tuple(p.city for p in _PLACES)),
        "acquisition_channel": text_column(people.channel[rows], tuple(c.name for c in vocab.CHANNELS)),
        "account_owner": text_column(pick(owner, older_owner), _OWNERS),
        "created_at": timestamp_column(people.created[rows]),
        "updated_at": timestamp_column(pick(updated, older_updated[older])),
    })


# --- purchases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Purchases:
    """Observed purchases, grouped by customer and in time order within a customer."""

    customer: np.ndarray  # index into the batch's customers
    moment: np.ndarray  # epoch seconds
    count: np.ndarray  # per customer
    last_moment: np.ndarray  # per customer; 0 when no purchase
    churned: np.ndarray  # per customer: dropped out (all K purchases happened before the horizon)

    @property
    def size(self) -> int:
        return self.customer.size


def _group_starts(counts: np.ndarray) -> np.ndarray:
    """Index of each group's first element in the flat array that np.repeat(..., counts) builds."""
    return np.cumsum(counts) - counts


def _simulate_purchases(rng: np.random.Generator, people: _People, timeline: Timeline,
                        params: BehaviourParameters) -> _Purchases:
    n = people.size
    quick = rng.random(n) < params.first_purchase_quick_share
    delay_days = np.where(quick, rng.exponential(params.first_purchase_quick_days, n),
                          rng.exponential(params.first_purchase_slow_days, n))
    first = people.created + delay_days * SECONDS_PER_DAY
    window_days = (timeline.horizon - first) / SECONDS_PER_DAY
    buys = ~people.never_buys & (window_days > 0)

    # K ~ Geometric(p). Drawing all K gaps is wasteful for tiny p, so K is capped where more
    # purchases could not fit before the horizon anyway (6 sigma above the Poisson count).
    k = rng.geometric(people.dropout)
    expected = people.rate * np.maximum(window_days, 0)
    cap = np.ceil(expected + 6 * np.sqrt(expected) + 5).astype(np.int64)
    drawn = np.where(buys, np.minimum(k, cap), 0)

    customer = np.repeat(np.arange(n), drawn)
    starts = _group_starts(drawn)[drawn > 0]
    gaps = rng.exponential(1.0, customer.size) / people.rate[customer]
    gaps[starts] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[starts], drawn[drawn > 0])
    moment = first[customer] + elapsed * SECONDS_PER_DAY

    # Whole-day position from the process, time of day from shopping habits; never before sign-up.
    moment = _at_local_daytime(rng, moment, people.utc_offset[customer], SHOPPING_HOURS)
    moment = np.maximum(moment, people.created[customer] + rng.integers(300, 7200, customer.size))
    keep = moment < timeline.horizon
    customer, moment = customer[keep], moment[keep]
    order = np.lexsort((moment, customer))
    customer, moment = customer[order], moment[order]

    count = np.bincount(customer, minlength=n)
    last_moment = np.zeros(n, dtype=np.int64)
    last_moment[customer] = moment  # the last write per customer wins: its latest purchase
    churned = (count > 0) & (count == k)
    return _Purchases(customer, moment, count, last_moment, churned)


@dataclass(frozen=True)
class _Lines:
    """Order lines, grouped by purchase (index into _Purchases) and numbered from 1."""

    purchase: np.ndarray
    line_number: np.ndarray
    product: np.ndarray  # index into the catalog
    category: np.ndarray  # index into vocabulary.PRODUCT_CATEGORIES
    quantity: np.ndarray
    unit_price: np.ndarray  # cents
    line_discount: np.ndarray  # cents
    purchase_net: np.ndarray  # per purchase: sum of quantity * unit_price - line_discount, cents


def _simulate_lines(rng: np.random.Generator, people: _People, purchases: _Purchases, catalog: Catalog,
                    params: BehaviourParameters) -> _Lines:
    lines_per_purchase = 1 + rng.poisson(params.extra_lines_mean, purchases.size)
    purchase = np.repeat(np.arange(purchases.size), lines_per_purchase)
    starts = _group_starts(lines_per_purchase)
    line_number = np.arange(purchase.size) - np.repeat(starts, lines_per_purchase) + 1
    spend = people.spend[purchases.customer[purchase]]
    # u ** (1 / spend) pushes big spenders towards the expensive end of the price-sorted catalog.
    pick = np.searchsorted(catalog.cumulative_popularity, rng.random(purchase.size) ** (1.0 / spend))
    product = catalog.by_price[np.minimum(pick, catalog.by_price.size - 1)]
    quantity = 1 + rng.poisson(params.extra_quantity_mean * np.sqrt(spend))
    unit_price = catalog.price_cents[product]
    gross = quantity * unit_price
    discounted = rng.random(purchase.size) < params.line_discount_share
    percent = rng.choice(np.array([5, 10, 15, 20]), purchase.size)
    line_discount = np.where(discounted, gross * percent // 100, 0)
    purchase_net = np.add.reduceat(gross - line_discount, starts) if purchase.size else np.zeros(0, np.int64)
    return _Lines(purchase, line_number, product, catalog.category[product], quantity.astype(np.int64),
                  unit_price, line_discount, purchase_net)


def _order_table(rng: np.random.Generator, people: _People, purchases: _Purchases, lines: _Lines,
                 first_ids: FirstIds, timeline: Timeline, params: BehaviourParameters) -> pa.Table:
    """Orders in time order (order ids ascend with ordered_at within a batch)."""
    m = purchases.size
    customer = purchases.customer
    age_days = (timeline.horizon - purchases.moment) / SECONDS_PER_DAY

    statuses = vocab.ORDER_STATUSES
    # Fulfilled orders move paid -> shipped -> delivered -> completed as they age.
    fulfilled = np.select(
        [age_days < 2, age_days < 5, age_days < 15],
        [statuses.index("paid"),
         np.where(rng.random(m) < 0.7, statuses.index("shipped"), statuses.index("paid")),
         np.where(rng.random(m) < 0.8, statuses.index("delivered"), statuses.index("shipped"))],
        np.where(rng.random(m) < 0.65, statuses.index("completed"), statuses.index("delivered")),
    )
    u = rng.random(m)
    # Refunds are a little more common among customers about to leave.
    refund_share = params.refunded_share * (0.6 + 0.4 * people.dropout[customer] / params.dropout_mean)
    cancelled = u < params.cancelled_share
    refunded = ~cancelled & (u < params.cancelled_share + refund_share)
    pending = (age_days < params.pending_window_days) & (
        rng.random(m) < 0.9 - 0.7 * age_days / params.pending_window_days)
    status = np.select(
        [pending, cancelled, refunded],
        [statuses.index(vocab.PENDING_STATUS),
         np.where(rng.random(m) < 0.7, statuses.index("cancelled"), statuses.index("void")),
         np.where(rng.random(m) < 0.6, statuses.index("refunded"), statuses.index("returned"))],
        fulfilled,
    )

    # Each customer has a favourite sales channel (Chinese customers lean to the app).
    n = people.size
    favourite = np.where(
        people.chinese,
        rng.choice(4, n, p=[0.35, 0.45, 0.12, 0.08]),
        rng.choice(4, n, p=[0.50, 0.25, 0.17, 0.08]),
    )
    channel = np.where(rng.random(m) < 0.75, favourite[customer], rng.integers(0, 4, m))

    # Order-level discount on ~20 % of orders: a coupon or a percentage, never above 30 % of the lines.
    net = lines.purchase_net
    coupon = rng.choice(np.array(vocab.COUPONS_CENTS), m)
    percent_off = net * rng.choice(np.array([5, 8, 10]), m) // 100
    discount = np.where(rng.random(m) < 0.6, coupon, percent_off)
    discount = np.minimum(discount, net * 3 // 10)
    discount = np.where(rng.random(m) < params.order_discount_share, discount, 0)

    by_time = np.argsort(purchases.moment, kind="stable")
    return pa.table({
        "order_id": pa.array(first_ids.order + np.arange(m), pa.int64()),
        "customer_id": pa.array(first_ids.customer + customer[by_time], pa.int64()),
        "ordered_at": timestamp_column(purchases.moment[by_time]),
        "status": text_column(status[by_time], statuses),
        "currency": text_column(np.zeros(m, np.int64), ("CNY",)),
        "order_discount": pa.array(discount[by_time], pa.int64()),
        "order_total": pa.array((net - discount)[by_time], pa.int64()),
        "sales_channel": text_column(channel[by_time], vocab.SALES_CHANNELS),
    })


def _order_ids(purchases: _Purchases, first_ids: FirstIds) -> np.ndarray:
    """The order id of each purchase (ids follow time order, see `_order_table`)."""
    ids = np.empty(purchases.size, dtype=np.int64)
    ids[np.argsort(purchases.moment, kind="stable")] = first_ids.order + np.arange(purchases.size)
    return ids


def _line_table(lines: _Lines, purchases: _Purchases, first_ids: FirstIds) -> pa.Table:
    """Order lines in the orders' order, numbered from 1 within each order."""
    order_id = _order_ids(purchases, first_ids)[lines.purchase]
    rows = np.argsort(order_id, kind="stable")  # lines of one order are contiguous and keep their numbering
    categories = tuple(name for name, _ in vocab.PRODUCT_CATEGORIES)
    return pa.table({
        "order_id": pa.array(order_id[rows], pa.int64()),
        "line_number": pa.array(lines.line_number[rows], pa.int32()),
        "product_id": pa.array(lines.product[rows] + 1, pa.int32()),
        "product_category": text_column(lines.category[rows], categories),
        "quantity": pa.array(lines.quantity[rows], pa.int32()),
        "unit_price": pa.array(lines.unit_price[rows], pa.int64()),
        "line_discount": pa.array(lines.line_discount[rows], pa.int64()),
    })


# --- interactions -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contacts:
    """Interactions, flat; `kind` indexes vocabulary.INTERACTION_TYPES."""

    customer: np.ndarray
    moment: np.ndarray
    kind: np.ndarray


_TYPE = {name: i for i, name in enumerate(vocab.INTERACTION_TYPES)}


def _simulate_interactions(rng: np.random.Generator, people: _People, purchases: _Purchases,
                           timeline: Timeline, params: BehaviourParameters) -> _Contacts:
    n = people.size
    # Churners stop being contacted a few weeks after they drop out.
    active_until = np.where(purchases.churned,
                            np.minimum(purchases.last_moment + 45 * SECONDS_PER_DAY, timeline.horizon - 1),
                            timeline.horizon - 1)
    span = np.maximum(active_until - people.created, 0)
    regular = rng.poisson(1.0 + params.contacts_per_year * span / SECONDS_PER_YEAR)
    reg_customer = np.repeat(np.arange(n), regular)
    reg_moment = people.created[reg_customer] + rng.random(reg_customer.size) * span[reg_customer]
    reg_kind = rng.choice(4, reg_customer.size, p=[0.35, 0.35, 0.10, 0.20])  # call, email, meeting, ticket

    # Complaints: most churners complain in the 60 days before their last purchase (or
    # just after it); other customers rarely complain, at any time.
    churn_complaints = np.where(purchases.churned & (rng.random(n) < params.complaint_share_of_churners),
                                1 + (rng.random(n) < 0.2), 0)
    calm_complaints = np.where(purchases.churned, 0, rng.poisson(0.08 * span / SECONDS_PER_YEAR))
    churn_customer = np.repeat(np.arange(n), churn_complaints)
    churn_moment = (purchases.last_moment[churn_customer]
                    - rng.uniform(-10, 60, churn_customer.size) * SECONDS_PER_DAY)
    calm_customer = np.repeat(np.arange(n), calm_complaints)
    calm_moment = people.created[calm_customer] + rng.random(calm_customer.size) * span[calm_customer]

    customer = np.concatenate([reg_customer, churn_customer, calm_customer])
    moment = np.concatenate([reg_moment, churn_moment, calm_moment])
    kind = np.concatenate([reg_kind, np.full(churn_customer.size + calm_customer.size, _TYPE["complaint"])])
    moment = _at_local_daytime(rng, moment, people.utc_offset[customer], OFFICE_HOURS)
    moment = np.maximum(moment, people.created[customer] + rng.integers(600, 4 * 3600, customer.size))
    keep = moment < timeline.horizon
    return _Contacts(customer[keep], moment[keep], kind[keep])


def bilingual_dictionary(
    groups: tuple[str, ...], pairs_by_group: dict[str, tuple[tuple[str, str], ...]],
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """One text dictionary of (Chinese, English) pairs per group: (texts, offsets[group, english], counts[group]).

    Texts run group by group, Chinese then English, so the text of pair k of
    group g in language e is texts[offsets[g, e] + k].
    """
    texts: list[str] = []
    offsets = np.zeros((len(groups), 2), dtype=np.int64)
    counts = np.zeros(len(groups), dtype=np.int64)
    for g, name in enumerate(groups):
        pairs = pairs_by_group[name]
        counts[g] = len(pairs)
        for language in (0, 1):
            offsets[g, language] = len(texts)
            texts.extend(pair[language] for pair in pairs)
    return tuple(texts), offsets, counts


def _interaction_table(rng: np.random.Generator, people: _People, contacts: _Contacts, first_ids: FirstIds,
                       timeline: Timeline) -> pa.Table:
    """Interactions in time order (ids ascend with occurred_at within a batch)."""
    size = contacts.customer.size
    age_days = (timeline.horizon - contacts.moment) / SECONDS_PER_DAY
    open_, closed, resolved = (vocab.INTERACTION_STATUSES.index(s) for s in ("open", "closed", "resolved"))
    u = rng.random(size)
    is_ticket = contacts.kind == _TYPE["ticket"]
    is_complaint = contacts.kind == _TYPE["complaint"]
    ticket_status = np.where(age_days < 14, np.where(u < 0.5, open_, resolved),
                             np.select([u < 0.85, u < 0.95], [resolved, closed], open_))
    complaint_status = np.where(age_days < 30, np.where(u < 0.4, open_, resolved),
                                np.select([u < 0.70, u < 0.95], [resolved, closed], open_))
    status = np.select([is_ticket, is_complaint], [ticket_status, complaint_status], closed)

    texts, offsets, counts = bilingual_dictionary(vocab.INTERACTION_TYPES, vocab.SUBJECTS)
    english = (~people.chinese[contacts.customer]).astype(np.int64)
    subject = offsets[contacts.kind, english] + (rng.random(size) * counts[contacts.kind]).astype(np.int64)

    by_time = np.argsort(contacts.moment, kind="stable")
    return pa.table({
        "interaction_id": pa.array(first_ids.interaction + np.arange(size), pa.int64()),
        "customer_id": pa.array(first_ids.customer + contacts.customer[by_time], pa.int64()),
        "occurred_at": timestamp_column(contacts.moment[by_time]),
        "interaction_type": text_column(contacts.kind[by_time], vocab.INTERACTION_TYPES),
        "status": text_column(status[by_time], vocab.INTERACTION_STATUSES),
        "subject": text_column(subject[by_time], texts),
    })


# --- surveys ------------------------------------------------------------------------------


_BANDS = ("promoter", "passive", "detractor")


def _survey_table(rng: np.random.Generator, people: _People, purchases: _Purchases, contacts: _Contacts,
                  first_ids: FirstIds, timeline: Timeline, params: BehaviourParameters) -> pa.Table:
    """NPS after some orders, CSAT after tickets and a few orders; scores fall with the dropout probability."""
    nps_after = rng.random(purchases.size) < params.nps_share_of_orders
    csat_after_order = ~nps_after & (rng.random(purchases.size) < params.csat_share_of_orders)
    service = (contacts.kind == _TYPE["ticket"]) | (contacts.kind == _TYPE["complaint"])
    csat_after_contact = service & (rng.random(contacts.customer.size) < params.csat_share_of_tickets)

    customer = np.concatenate([purchases.customer[nps_after], purchases.customer[csat_after_order],
                               contacts.customer[csat_after_contact]])
    after = np.concatenate([purchases.moment[nps_after], purchases.moment[csat_after_order],
                            contacts.moment[csat_after_contact]])
    is_nps = np.concatenate([np.ones(nps_after.sum(), bool), np.zeros(csat_after_order.sum(), bool),
                             np.zeros(csat_after_contact.sum(), bool)])
    complaint = np.concatenate([np.zeros(nps_after.sum() + csat_after_order.sum(), bool),
                                contacts.kind[csat_after_contact] == _TYPE["complaint"]])
    size = customer.size
    submitted = (after + 3600 + rng.exponential(2.0, size) * SECONDS_PER_DAY).astype(np.int64)
    keep = submitted < timeline.horizon
    customer, submitted, is_nps, complaint = customer[keep], submitted[keep], is_nps[keep], complaint[keep]
    size = customer.size

    # Customers about to drop out answer worse, and worse still close to their last purchase.
    z = people.dropout_z[customer]
    near_churn = purchases.churned[customer] & (submitted > purchases.last_moment[customer] - 60 * SECONDS_PER_DAY)
    nps = np.clip(np.round(7.9 - 1.0 * z - 1.5 * near_churn + rng.normal(0, 1.6, size)), 0, 10)
    csat = np.clip(np.round(4.1 - 0.4 * z - 0.7 * near_churn - 1.0 * complaint + rng.normal(0, 0.8, size)), 1, 5)
    score = np.where(is_nps, nps, csat).astype(np.int64)
    band = np.where(is_nps, np.select([score >= 9, score >= 7], [0, 1], 2),
                    np.select([score >= 4, score == 3], [0, 1], 2))
    texts, offsets, counts = bilingual_dictionary(_BANDS, vocab.COMMENTS)
    english = (~people.chinese[customer]).astype(np.int64)
    comment = offsets[band, english] + (rng.random(size) * counts[band]).astype(np.int64)
    has_comment = rng.random(size) < params.comment_share

    by_time = np.argsort(submitted, kind="stable")
    return pa.table({
        "response_id": pa.array(first_ids.response + np.arange(size), pa.int64()),
        "customer_id": pa.array(first_ids.customer + customer[by_time], pa.int64()),
        "survey_type": text_column(np.where(is_nps, 0, 1)[by_time], vocab.SURVEY_TYPES),
        "score": pa.array(score[by_time], pa.int32()),
        "submitted_at": timestamp_column(submitted[by_time]),
        "comment": pa.DictionaryArray.from_arrays(
            pa.array(comment[by_time].astype(np.int32), mask=~has_comment[by_time]),
            pa.array(texts, pa.string())),
    })
