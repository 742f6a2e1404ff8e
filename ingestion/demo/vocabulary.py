"""The small word lists the demo data is drawn from.

Everything categorical in the demo data is an index into one of these tuples,
so the simulation stays in numpy and the text is only materialised as Arrow
dictionary arrays (see `behaviour.text_column`). Chinese entries carry their
pinyin so that e-mail addresses can be derived from names.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- people -----------------------------------------------------------------

# (surname, pinyin, relative frequency) - the most common surnames dominate, as in real CRM data.
CHINESE_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4), ("陈", "chen", 4.5),
    ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0), ("吴", "wu", 1.9), ("周", "zhou", 1.9),
    ("徐", "xu", 1.5), ("孙", "sun", 1.4), ("马", "ma", 1.3), ("朱", "zhu", 1.3), ("胡", "hu", 1.2),
    ("郭", "guo", 1.1), ("何", "he", 1.1), ("高", "gao", 1.0), ("林", "lin", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.6), ("唐", "tang", 0.6),
    ("许", "xu", 0.6), ("韩", "han", 0.5), ("冯", "feng", 0.5), ("邓", "deng", 0.5), ("曹", "cao", 0.5),
)

CHINESE_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"), ("建华", "jianhua"), ("文", "wen"),
    ("华", "hua"), ("建国", "jianguo"), ("海燕", "haiyan"), ("志强", "zhiqiang"), ("晓明", "xiaoming"),
    ("丹", "dan"), ("宇", "yu"), ("浩", "hao"), ("欣怡", "xinyi"), ("子涵", "zihan"), ("梓轩", "zixuan"),
    ("雨桐", "yutong"), ("佳怡", "jiayi"), ("俊杰", "junjie"), ("思远", "siyuan"), ("婷", "ting"),
)

ENGLISH_FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Emily", "Matthew", "Olivia", "Anthony", "Sophie", "Mark", "Chloe", "Steven", "Grace",
    "Andrew", "Hannah", "Joshua", "Amelia", "Kevin", "Isla", "Brian", "Lucy", "Oliver", "Charlotte",
)

ENGLISH_LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Evans", "Edwards", "Collins",
)

CHINESE_EMAIL_DOMAINS: tuple[str, ...] = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "aliyun.com")
ENGLISH_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com")

# Sales reps. Chinese customers are served by the first group, the others by the second.
CHINESE_ACCOUNT_OWNERS: tuple[str, ...] = ("王磊", "李娜", "陈静", "刘洋")
ENGLISH_ACCOUNT_OWNERS: tuple[str, ...] = ("Emily Carter", "James Wilson", "Olivia Brown", "Daniel Lee")

# --- places -----------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A customer location: the UTC offset turns local daytime into UTC timestamps."""

    country: str
    city: str
    utc_offset_hours: int
    weight: float  # relative frequency within its group (Chinese or international customers)


CHINESE_PLACES: tuple[Place, ...] = (
    Place("China", "上海", 8, 14), Place("China", "北京", 8, 13), Place("China", "深圳", 8, 11),
    Place("China", "广州", 8, 10), Place("China", "杭州", 8, 9), Place("China", "成都", 8, 8),
    Place("China", "重庆", 8, 6), Place("China", "南京", 8, 6), Place("China", "武汉", 8, 6),
    Place("China", "苏州", 8, 6), Place("China", "天津", 8, 6), Place("China", "西安", 8, 5),
)

# Offsets are standard time; daylight saving is ignored (an hour off does not change any metric).
INTERNATIONAL_PLACES: tuple[Place, ...] = (
    Place("United States", "New York", -5, 12), Place("United States", "San Francisco", -8, 9),
    Place("United States", "Chicago", -6, 6), Place("United States", "Seattle", -8, 5),
    Place("United Kingdom", "London", 0, 14), Place("United Kingdom", "Manchester", 0, 5),
    Place("Singapore", "Singapore", 8, 15), Place("Australia", "Sydney", 10, 9),
    Place("Australia", "Melbourne", 10, 7), Place("Canada", "Toronto", -5, 6),
    Place("Canada", "Vancouver", -8, 4), Place("Germany", "Berlin", 1, 5),
)

# printf templates with exactly three integer slots and the range of each slot, per country.
PHONE_FORMATS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "China": ("+86 1%02d %04d %04d", ((30, 100), (0, 10000), (0, 10000))),
    "United States": ("+1 %03d %03d %04d", ((201, 990), (200, 1000), (0, 10000))),
    "Canada": ("+1 %03d %03d %04d", ((204, 906), (200, 1000), (0, 10000))),
    "United Kingdom": ("+44 7%03d %03d%03d", ((100, 1000), (0, 1000), (0, 1000))),
    "Singapore": ("+65 %d%03d %04d", ((8, 10), (0, 1000), (0, 10000))),
    "Australia": ("+61 4%02d %03d %03d", ((0, 100), (0, 1000), (0, 1000))),
    "Germany": ("+49 15%d %04d%04d", ((1, 10), (0, 10000), (0, 10000))),
}

# --- business ---------------------------------------------------------------


@dataclass(frozen=True)
class Industry:
    """An industry and the word its companies' names carry in each language."""

    name: str
    chinese_word: str
    english_word: str
    weight: float


INDUSTRIES: tuple[Industry, ...] = (
    Industry("Retail", "商贸", "Retail", 16), Industry("Technology", "科技", "Technologies", 15),
    Industry("Manufacturing", "制造", "Manufacturing", 13), Industry("Healthcare", "医疗", "Health", 9),
    Industry("Finance", "金融", "Capital", 8), Industry("Education", "教育", "Learning", 8),
    Industry("Hospitality", "酒店管理", "Hospitality", 8), Industry("Logistics", "物流", "Logistics", 9),
    Industry("Real Estate", "置业", "Properties", 6), Industry("Media", "传媒", "Media", 8),
)

CHINESE_COMPANY_STEMS: tuple[str, ...] = (
    "华信", "鼎盛", "恒达", "宏图", "金桥", "瑞丰", "天成", "远航", "新纪元", "博雅",
    "东方", "星辰", "聚源", "嘉禾", "中联", "汇通", "盛世", "卓越", "安泰", "润和",
)
ENGLISH_COMPANY_STEMS: tuple[str, ...] = (
    "Northwind", "Bluewater", "Summit", "Redwood", "Silverline", "Harbor", "Evergreen", "Pinnacle",
    "Brightway", "Oakridge", "Crescent", "Ironbridge", "Westfield", "Lakeside", "Granite", "Horizon",
    "Sterling", "Maple", "Riverstone", "Kingsway",
)
ENGLISH_LEGAL_FORMS: tuple[str, ...] = ("Ltd", "Inc", "LLC", "Group", "Pte Ltd")


def chinese_company_names() -> tuple[str, ...]:
    """Every Chinese company name, stem-major: index = stem * len(INDUSTRIES) + industry."""
    return tuple(f"{stem}{ind.chinese_word}有限公司" for stem in CHINESE_COMPANY_STEMS for ind in INDUSTRIES)


def english_company_names() -> tuple[str, ...]:
    """Every English company name, stem-major: index = stem * len(INDUSTRIES) + industry."""
    return tuple(
        f"{stem} {ind.english_word} {ENGLISH_LEGAL_FORMS[(s + i) % len(ENGLISH_LEGAL_FORMS)]}"
        for s, stem in enumerate(ENGLISH_COMPANY_STEMS)
        for i, ind in enumerate(INDUSTRIES)
    )


@dataclass(frozen=True)
class Channel:
    """An acquisition channel and how its customers tend to behave.

    `dropout_factor` scales the mean of the BG/NBD dropout probability and
    `rate_factor` the mean purchase rate: referred customers stay longer and
    buy more often than customers won by paid social ads.
    """

    name: str
    share: float
    dropout_factor: float
    rate_factor: float


CHANNELS: tuple[Channel, ...] = (
    Channel("organic", 0.24, 1.00, 1.00),
    Channel("paid_search", 0.20, 1.15, 0.95),
    Channel("social", 0.16, 1.30, 0.90),
    Channel("referral", 0.12, 0.70, 1.15),
    Channel("email", 0.10, 0.95, 1.05),
    Channel("partner", 0.10, 0.85, 1.10),
    Channel("offline_event", 0.08, 0.90, 1.00),
)

SALES_CHANNELS: tuple[str, ...] = ("online", "app", "store", "phone")

# --- products ---------------------------------------------------------------

# (category, median price in CNY): base prices are lognormal around the median.
PRODUCT_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("electronics", 899.0), ("home_appliances", 599.0), ("apparel", 159.0), ("beauty", 129.0),
    ("food_beverage", 39.0), ("books", 49.0), ("sports_outdoor", 229.0), ("toys_baby", 99.0),
    ("office_supplies", 59.0), ("health", 89.0),
)
PRODUCTS_PER_CATEGORY = 30

# --- orders -----------------------------------------------------------------

# Source vocabulary of order statuses (staging normalises them, see METRICS.md).
COMPLETED_STATUSES: tuple[str, ...] = ("paid", "shipped", "delivered", "completed")
CANCELLED_STATUSES: tuple[str, ...] = ("cancelled", "void")
REFUNDED_STATUSES: tuple[str, ...] = ("refunded", "returned")
PENDING_STATUS = "pending"
ORDER_STATUSES: tuple[str, ...] = COMPLETED_STATUSES + CANCELLED_STATUSES + REFUNDED_STATUSES + (PENDING_STATUS,)

# Order-level coupons in cents (CNY).
COUPONS_CENTS: tuple[int, ...] = (500, 1000, 2000, 3000, 5000, 10000)

# --- interactions -----------------------------------------------------------

INTERACTION_TYPES: tuple[str, ...] = ("call", "email", "meeting", "ticket", "complaint")
INTERACTION_STATUSES: tuple[str, ...] = ("open", "closed", "resolved")

# (Chinese subject, English subject) per interaction type.
SUBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "call": (("季度回访", "Quarterly check-in call"), ("续约沟通", "Renewal discussion"),
             ("新品介绍", "New product introduction"), ("满意度回访", "Satisfaction follow-up call")),
    "email": (("订单确认跟进", "Order confirmation follow-up"), ("发票申请", "Invoice request"),
              ("促销活动通知", "Promotion announcement"), ("账户信息更新", "Account details update")),
    "meeting": (("年度业务回顾", "Annual business review"), ("产品演示", "Product demo"),
                ("合作方案讨论", "Partnership proposal")),
    "ticket": (("物流查询", "Shipping status inquiry"), ("退换货申请", "Return request"),
               ("账户登录问题", "Account login issue"), ("发票错误更正", "Invoice correction")),
    "complaint": (("物流延迟投诉", "Complaint: late delivery"), ("产品质量问题", "Complaint: product quality"),
                  ("客服态度差", "Complaint: poor service"), ("重复扣款", "Complaint: double charge"),
                  ("价格争议", "Complaint: pricing dispute")),
}

# --- surveys ----------------------------------------------------------------

SURVEY_TYPES: tuple[str, ...] = ("nps", "csat")

# (Chinese comment, English comment) per score band; commas and quotes exercise CSV quoting.
COMMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "promoter": (("非常满意，会推荐给朋友", "Great service, will recommend"),
                 ("物流很快，质量好", 'Fast delivery and "excellent" quality'),
                 ("服务专业，值得信赖", "Professional team, trustworthy"),
                 ("一直在这里买，放心", "Been buying here for years, always reliable")),
    "passive": (("还可以，价格有点高", "Good, but a bit pricey"),
                ("总体不错，但包装一般", "OK overall, packaging could be better"),
                ("一般般", "Decent"),
                ("送货慢了一点", "Delivery was a little slow")),
    "detractor": (("物流太慢了", "Delivery was late, again"),
                  ("质量不好，不会再买", "Poor quality, would not buy again"),
                  ("客服回复慢，问题没解决", "Support never solved my issue"),
                  ("价格比别家贵，考虑换供应商", "More expensive than others, considering switching")),
}
