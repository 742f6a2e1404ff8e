"""The rules of the marts: the bounds and invariants of ../shared/METRICS.md, checked before publishing.

The dbt build tests the same invariants while it builds; these run after it,
through Great Expectations, as the gate between the marts and what BI tools
read, and report counts and examples in Dagster.
"""

from __future__ import annotations

from quality.rules.row_rule import RowRule

MARTS_SCHEMA = "marts"
# Of identified customers: guest orders are in fct_orders, never in the customer marts.
COMPLETED_REVENUE = f"(SELECT sum(net_revenue) FROM {MARTS_SCHEMA}.fct_orders WHERE is_completed AND NOT is_guest)"
CLV_REVENUE = f"(SELECT sum(historical_revenue) FROM {MARTS_SCHEMA}.customer_lifetime_value)"
RFM_ROWS = f"(SELECT count(*) FROM {MARTS_SCHEMA}.customer_rfm)"
CLV_ROWS = f"(SELECT count(*) FROM {MARTS_SCHEMA}.customer_lifetime_value)"


def _rule(mart: str, name: str, column: str, reason: str, predicate: str = "false", rows_query: str | None = None
          ) -> RowRule:
    return RowRule(f"{mart}.{name}", mart, column, reason, predicate, rows_query=rows_query)


def _between(columns: tuple[str, ...], low: int, high: int) -> str:
    return " OR ".join(f"{c} NOT BETWEEN {low} AND {high}" for c in columns)


MART_RULES: dict[str, list[RowRule]] = {
    "cohort_retention": [
        _rule("cohort_retention", "rates_in_bounds", "retention_rate", "retention_rate outside 0..1",
              "retention_rate NOT BETWEEN 0 AND 1 OR active_customers > cohort_size"),
        _rule("cohort_retention", "cohort_starts_fully_retained", "retention_rate",
              "retention at period_number 0 is not 1.0", "period_number = 0 AND retention_rate <> 1"),
        _rule("cohort_retention", "cohort_sizes_sum_to_customers", "cohort_size",
              "cohort sizes do not sum to the customers with a completed order (rows of customer_rfm and "
              "customer_lifetime_value)",
              rows_query=f"SELECT grain, sum(cohort_size) AS cohort_customers, {RFM_ROWS} AS rfm_rows, "
                         f"{CLV_ROWS} AS clv_rows FROM {{batch}} WHERE period_number = 0 GROUP BY grain "
                         f"HAVING sum(cohort_size) <> {RFM_ROWS} OR sum(cohort_size) <> {CLV_ROWS}"),
        _rule("cohort_retention", "revenue_reconciles", "revenue",
              "cohort revenue does not equal the completed revenue of fct_orders and customer_lifetime_value "
              "to the cent",
              rows_query=f"SELECT grain, sum(revenue) AS cohort_revenue, {COMPLETED_REVENUE} AS fct_orders_revenue, "
                         f"{CLV_REVENUE} AS clv_revenue FROM {{batch}} GROUP BY grain "
                         f"HAVING sum(revenue) <> coalesce({COMPLETED_REVENUE}, 0) "
                         f"OR sum(revenue) <> coalesce({CLV_REVENUE}, 0)"),
    ],
    "customer_retention": [
        _rule("customer_retention", "rates_in_bounds", "customer_retention_rate",
              "a rate outside its bounds (CRR, churn and GRR in 0..1, NRR at least 0)",
              _between(("customer_retention_rate", "churn_rate", "gross_revenue_retention"), 0, 1)
              + " OR net_revenue_retention < 0"),
        _rule("customer_retention", "identities_hold", "end_customers",
              "E <> retained + new + reactivated or S <> retained + churned",
              "end_customers <> retained_customers + new_customers + reactivated_customers "
              "OR start_customers <> retained_customers + churned_customers"),
        _rule("customer_retention", "empty_base_has_no_rate", "customer_retention_rate",
              "S = 0 but a retention rate is given", "start_customers = 0 AND customer_retention_rate IS NOT NULL"),
    ],
    "customer_rfm": [
        _rule("customer_rfm", "scores_in_bounds", "r_score", "an RFM score outside 1..5",
              _between(("r_score", "f_score", "m_score", "fm_score"), 1, 5)),
        _rule("customer_rfm", "every_customer_segmented", "rfm_segment", "no segment or tier",
              "rfm_segment IS NULL OR customer_tier IS NULL"),
    ],
    "customer_lifetime_value": [
        _rule("customer_lifetime_value", "values_in_bounds", "orders",
              "fewer than one order, negative tenure, or average order value <> revenue / orders",
              "orders < 1 OR tenure_days < 0 OR abs(average_order_value * orders - historical_revenue) > 0.01 * orders"),
    ],
    "clv_summary": [
        _rule("clv_summary", "rates_in_bounds", "annual_churn_rate", "annual churn rate outside 0..1",
              "annual_churn_rate NOT BETWEEN 0 AND 1"),
    ],
    "survey_scores": [
        _rule("survey_scores", "scores_in_bounds", "nps", "NPS outside -100..100 or CSAT outside 0..100",
              "nps NOT BETWEEN -100 AND 100 OR csat NOT BETWEEN 0 AND 100"),
    ],
    "churn_risk": [
        _rule("churn_risk", "level_follows_signals", "risk_level",
              "risk_level does not follow the signals (high: 3+ or 2 with low P(alive); medium: 2; low: 1)",
              "signal_count NOT BETWEEN 1 AND 5 OR signal_count <> cast(is_overdue AS INTEGER) "
              "+ cast(is_ordering_less AS INTEGER) + cast(is_detractor AS INTEGER) + cast(is_complaining AS INTEGER) "
              "+ cast(is_unlikely_alive AS INTEGER) OR risk_level <> CASE WHEN signal_count >= 3 OR "
              "(is_unlikely_alive AND signal_count >= 2) THEN 'high' WHEN signal_count = 2 THEN 'medium' ELSE 'low' END"),
        _rule("churn_risk", "p_alive_in_bounds", "p_alive", "P(alive) outside 0..1", "p_alive NOT BETWEEN 0 AND 1"),
    ],
    "dim_customers": [
        _rule("dim_customers", "one_row_per_customer", "customer_id", "customer_id not unique",
              "customer_id IN (SELECT customer_id FROM {batch} GROUP BY customer_id HAVING count(*) > 1)"),
    ],
}
