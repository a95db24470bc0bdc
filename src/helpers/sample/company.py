"""The synthetic company's fixed profile: personas, sources, regions, reps and word lists.

Everything here is a plain constant; :mod:`helpers.sample.generator` draws from it. The numbers
are invented for teaching and are recorded in ``sample_truth.json`` so analyses can be checked
against them.
"""

from __future__ import annotations

from dataclasses import dataclass

INDUSTRIES: tuple[str, ...] = (
    "manufacturing",
    "logistics",
    "finance",
    "utilities",
    "telecom",
    "software",
    "professional_services",
    "retail",
    "construction",
    "healthcare",
    "consumer_goods",
)
JOB_LEVELS: tuple[str, ...] = ("owner", "c_level", "director", "manager", "specialist")


@dataclass(frozen=True)
class Persona:
    """A buyer persona: firmographics, behaviour and how well it fits the company's offer."""

    name: str
    description: str
    share: float  # share of all leads
    size_median: float  # employees, lognormal
    size_sigma: float
    revenue_per_employee: float  # EUR, lognormal median
    industries: dict[str, float]
    job_levels: dict[str, float]
    web_visits: float  # mean count (negative binomial)
    content_downloads: float
    email_opens: float
    lead_to_mql: float  # base probability before the source multiplier
    mql_to_sal: float  # acceptance probability among worked MQLs
    sal_to_sql: float  # probability at the reference response time
    sql_to_opportunity: float
    win_rate: float
    deal_median: float  # EUR, lognormal
    cycle_median_days: float  # opportunity created -> closed, lognormal
    sources: dict[str, float]
    reject_reasons: dict[str, float]


PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="Operations Olivia",
        description="Operations manager at a mid-size manufacturer; researches on the web.",
        share=0.24,
        size_median=280,
        size_sigma=0.40,
        revenue_per_employee=180_000,
        industries={
            "manufacturing": 0.6,
            "logistics": 0.2,
            "construction": 0.1,
            "consumer_goods": 0.1,
        },
        job_levels={"manager": 0.6, "director": 0.25, "specialist": 0.15},
        web_visits=16,
        content_downloads=2,
        email_opens=4,
        lead_to_mql=0.40,
        mql_to_sal=0.80,
        sal_to_sql=0.52,
        sql_to_opportunity=0.66,
        win_rate=0.31,
        deal_median=24_000,
        cycle_median_days=70,
        sources={
            "organic_search": 3,
            "paid_search": 2,
            "content_download": 1.5,
            "webinar": 1,
            "social": 0.5,
            "outbound_email": 1,
            "cold_call": 0.5,
            "event": 1.5,
            "referral": 1,
            "partner": 1,
            "customer_expansion": 0.5,
        },
        reject_reasons={
            "wrong_company_size": 1,
            "wrong_persona": 1,
            "wrong_geography": 1,
            "existing_customer": 1.5,
            "competitor": 1,
            "unverified_contact": 1.5,
        },
    ),
    Persona(
        name="IT Director Ivan",
        description="IT director at a large enterprise; downloads whitepapers, meets at events.",
        share=0.14,
        size_median=3_500,
        size_sigma=0.45,
        revenue_per_employee=260_000,
        industries={
            "finance": 0.3,
            "utilities": 0.2,
            "telecom": 0.2,
            "healthcare": 0.15,
            "manufacturing": 0.15,
        },
        job_levels={"director": 0.65, "c_level": 0.15, "manager": 0.2},
        web_visits=6,
        content_downloads=8,
        email_opens=3,
        lead_to_mql=0.32,
        mql_to_sal=0.72,
        sal_to_sql=0.45,
        sql_to_opportunity=0.72,
        win_rate=0.22,
        deal_median=85_000,
        cycle_median_days=130,
        sources={
            "organic_search": 1,
            "paid_search": 1,
            "content_download": 3,
            "webinar": 2,
            "social": 0.5,
            "outbound_email": 2,
            "cold_call": 1,
            "event": 3,
            "referral": 1,
            "partner": 2,
            "customer_expansion": 1.5,
        },
        reject_reasons={
            "wrong_company_size": 0.3,
            "wrong_persona": 1,
            "wrong_geography": 1,
            "existing_customer": 3,
            "competitor": 2,
            "unverified_contact": 1,
        },
    ),
    Persona(
        name="Founder Fabio",
        description="Founder of a small firm; decides fast, buys small, rarely reads email.",
        share=0.24,
        size_median=14,
        size_sigma=0.50,
        revenue_per_employee=110_000,
        industries={
            "professional_services": 0.35,
            "software": 0.25,
            "retail": 0.25,
            "consumer_goods": 0.15,
        },
        job_levels={"owner": 0.7, "c_level": 0.3},
        web_visits=9,
        content_downloads=0.6,
        email_opens=1.2,
        lead_to_mql=0.34,
        mql_to_sal=0.55,
        sal_to_sql=0.30,
        sql_to_opportunity=0.55,
        win_rate=0.34,
        deal_median=4_500,
        cycle_median_days=25,
        sources={
            "organic_search": 2,
            "paid_search": 3,
            "content_download": 0.5,
            "webinar": 0.5,
            "social": 3,
            "outbound_email": 1,
            "cold_call": 1.5,
            "event": 0.5,
            "referral": 1.5,
            "partner": 0.3,
            "customer_expansion": 0.2,
        },
        reject_reasons={
            "wrong_company_size": 4,
            "wrong_persona": 1,
            "wrong_geography": 0.5,
            "existing_customer": 0.3,
            "competitor": 0.5,
            "unverified_contact": 2,
        },
    ),
    Persona(
        name="Procurement Paola",
        description="Purchasing manager at a mid-large firm; compares offers, reads every email.",
        share=0.16,
        size_median=850,
        size_sigma=0.40,
        revenue_per_employee=220_000,
        industries={
            "manufacturing": 0.35,
            "construction": 0.25,
            "healthcare": 0.2,
            "utilities": 0.2,
        },
        job_levels={"manager": 0.7, "specialist": 0.2, "director": 0.1},
        web_visits=3,
        content_downloads=1.5,
        email_opens=15,
        lead_to_mql=0.28,
        mql_to_sal=0.68,
        sal_to_sql=0.40,
        sql_to_opportunity=0.62,
        win_rate=0.24,
        deal_median=38_000,
        cycle_median_days=95,
        sources={
            "organic_search": 1,
            "paid_search": 1,
            "content_download": 1,
            "webinar": 1,
            "social": 0.3,
            "outbound_email": 3,
            "cold_call": 2,
            "event": 2,
            "referral": 1,
            "partner": 1.5,
            "customer_expansion": 0.5,
        },
        reject_reasons={
            "wrong_company_size": 0.5,
            "wrong_persona": 2,
            "wrong_geography": 1,
            "existing_customer": 1,
            "competitor": 1.5,
            "unverified_contact": 1,
        },
    ),
    Persona(
        name="Marketing Manager Marco",
        description="Marketing manager at a small-mid firm; heavy content and webinar user.",
        share=0.22,
        size_median=110,
        size_sigma=0.45,
        revenue_per_employee=150_000,
        industries={
            "retail": 0.3,
            "consumer_goods": 0.3,
            "software": 0.2,
            "professional_services": 0.2,
        },
        job_levels={"manager": 0.6, "specialist": 0.3, "director": 0.1},
        web_visits=8,
        content_downloads=10,
        email_opens=11,
        lead_to_mql=0.46,
        mql_to_sal=0.70,
        sal_to_sql=0.36,
        sql_to_opportunity=0.58,
        win_rate=0.27,
        deal_median=12_000,
        cycle_median_days=45,
        sources={
            "organic_search": 2,
            "paid_search": 1.5,
            "content_download": 3,
            "webinar": 3,
            "social": 2,
            "outbound_email": 0.5,
            "cold_call": 0.3,
            "event": 1,
            "referral": 0.5,
            "partner": 0.5,
            "customer_expansion": 0.3,
        },
        reject_reasons={
            "wrong_company_size": 1,
            "wrong_persona": 3,
            "wrong_geography": 0.5,
            "existing_customer": 0.5,
            "competitor": 1,
            "unverified_contact": 1.5,
        },
    ),
)

# Persona attributes a clustering should use (the persona label itself is not one of them).
PERSONA_FEATURES: tuple[str, ...] = (
    "company_size",
    "annual_revenue",
    "web_visits",
    "content_downloads",
    "email_opens",
    "industry",
    "job_level",
)

CHANNEL_OF_SOURCE: dict[str, str] = {
    "organic_search": "inbound",
    "paid_search": "inbound",
    "content_download": "inbound",
    "webinar": "inbound",
    "social": "inbound",
    "outbound_email": "outbound",
    "cold_call": "outbound",
    "event": "outbound",
    "referral": "relational",
    "partner": "relational",
    "customer_expansion": "relational",
}
SOURCES: tuple[str, ...] = tuple(CHANNEL_OF_SOURCE)
# Multiplier on the persona's lead -> MQL probability: relational sources bring warmer leads.
SOURCE_MQL_MULTIPLIER: dict[str, float] = {
    "organic_search": 1.0,
    "paid_search": 0.9,
    "content_download": 1.1,
    "webinar": 1.2,
    "social": 0.7,
    "outbound_email": 0.8,
    "cold_call": 0.7,
    "event": 1.0,
    "referral": 1.4,
    "partner": 1.2,
    "customer_expansion": 1.5,
}

REJECT_REASONS: tuple[str, ...] = (
    "wrong_company_size",
    "wrong_persona",
    "wrong_geography",
    "existing_customer",
    "competitor",
    "unverified_contact",
)
LOST_REASONS: dict[str, float] = {
    "price": 3,
    "competitor": 2.5,
    "no_decision": 3,
    "timing": 1.5,
    "budget": 2,
}


@dataclass(frozen=True)
class Region:
    """A sales region with its own team of SDRs and account executives."""

    name: str
    share: float
    logit_effect: float  # fixed difference in qualification odds (constant over time)
    sdrs: tuple[str, ...]
    owners: tuple[str, ...]
    area_codes: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region(
        "north_west",
        0.28,
        0.10,
        ("sdr_01", "sdr_02"),
        ("ae_01", "ae_02", "ae_03"),
        ("02", "011", "010"),
    ),
    Region(
        "north_east", 0.22, 0.05, ("sdr_03", "sdr_04"), ("ae_04", "ae_05"), ("041", "045", "051")
    ),
    Region("centre", 0.22, 0.0, ("sdr_05", "sdr_06"), ("ae_06", "ae_07"), ("06", "055", "071")),
    Region("south", 0.17, -0.15, ("sdr_07",), ("ae_08", "ae_09"), ("081", "080", "0961")),
    Region("islands", 0.11, -0.10, ("sdr_08",), ("ae_10",), ("091", "095", "070")),
)
# Staggered adoption of the alignment programme: region -> month offset from the start.
PROGRAMME_WAVES: dict[str, int] = {"north_west": 14, "south": 14, "centre": 18}

# Median first-response delay (calendar hours) per SDR before business-hours rolling.
SDR_SPEED_HOURS: dict[str, float] = {
    "sdr_01": 0.3,
    "sdr_02": 0.8,
    "sdr_03": 0.5,
    "sdr_04": 2.5,
    "sdr_05": 1.2,
    "sdr_06": 6.0,
    "sdr_07": 3.0,
    "sdr_08": 10.0,
}
# Multiplier on the persona's deal cycle for each account executive (some close faster).
AE_CYCLE_FACTOR: dict[str, float] = {
    "ae_01": 0.8,
    "ae_02": 1.0,
    "ae_03": 1.2,
    "ae_04": 0.9,
    "ae_05": 1.1,
    "ae_06": 0.85,
    "ae_07": 1.3,
    "ae_08": 1.0,
    "ae_09": 1.15,
    "ae_10": 0.95,
}
SDR_NEVER_WORKED: dict[str, float] = {
    "sdr_01": 0.03,
    "sdr_02": 0.05,
    "sdr_03": 0.04,
    "sdr_04": 0.08,
    "sdr_05": 0.06,
    "sdr_06": 0.12,
    "sdr_07": 0.09,
    "sdr_08": 0.15,
}

# Relative lead volume by calendar month (Jan..Dec): August and late-December dips.
MONTH_SEASONALITY: tuple[float, ...] = (
    1.15,
    1.05,
    1.05,
    1.0,
    1.0,
    0.95,
    0.85,
    0.45,
    1.2,
    1.1,
    1.05,
    0.85,
)
# Common change of qualification odds by calendar month (hits every region alike).
MONTH_QUALIFICATION_LOGIT: tuple[float, ...] = (
    0.05,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.05,
    -0.25,
    0.1,
    0.05,
    0.0,
    -0.15,
)
HOUR_WEIGHTS: tuple[float, ...] = (
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.3,
    0.8,
    2,
    3,
    3.2,
    3,
    2.2,
    2,
    2.8,
    3,
    2.8,
    2.2,
    1.5,
    1,
    0.8,
    0.7,
    0.5,
    0.3,
)

FIRST_NAMES: tuple[str, ...] = (
    "giulia",
    "francesca",
    "chiara",
    "sara",
    "elena",
    "valentina",
    "alessia",
    "martina",
    "laura",
    "federica",
    "silvia",
    "paola",
    "anna",
    "marta",
    "roberta",
    "ilaria",
    "marco",
    "luca",
    "andrea",
    "matteo",
    "alessandro",
    "francesco",
    "lorenzo",
    "davide",
    "simone",
    "stefano",
    "riccardo",
    "giorgio",
    "paolo",
    "fabio",
    "enrico",
    "nicola",
    "pietro",
    "tommaso",
    "ivan",
)
LAST_NAMES: tuple[str, ...] = (
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "bianchi",
    "romano",
    "colombo",
    "ricci",
    "marino",
    "greco",
    "bruno",
    "gallo",
    "conti",
    "costa",
    "giordano",
    "mancini",
    "rizzo",
    "lombardi",
    "moretti",
    "barbieri",
    "fontana",
    "santoro",
    "mariani",
    "rinaldi",
    "caruso",
    "ferrara",
    "galli",
    "martini",
    "leone",
    "longo",
    "gentile",
    "martinelli",
    "vitale",
    "serra",
    "coppola",
    "villa",
    "cattaneo",
    "farina",
    "pellegrini",
    "sala",
    "fabbri",
    "monti",
    "testa",
    "grasso",
)
COMPANY_WORDS: dict[str, tuple[str, ...]] = {
    "manufacturing": ("meccanica", "automazione", "componenti"),
    "logistics": ("trasporti", "logistica", "spedizioni"),
    "finance": ("finanza", "assicurazioni", "credito"),
    "utilities": ("energia", "servizi idrici", "reti"),
    "telecom": ("telecomunicazioni", "connessioni", "fibra"),
    "software": ("software", "digitale", "sistemi"),
    "professional_services": ("consulenze", "studio associato", "servizi"),
    "retail": ("commercio", "distribuzione", "negozi"),
    "construction": ("costruzioni", "edilizia", "impianti"),
    "healthcare": ("sanita", "diagnostica", "cliniche"),
    "consumer_goods": ("alimentari", "arredamenti", "tessile"),
}
COUNTRIES: dict[str, float] = {"IT": 0.95, "CH": 0.02, "SM": 0.01, "FR": 0.01, "DE": 0.01}

# Words each team writes about the other, by tone and language.
WORDS: dict[tuple[str, str, str], tuple[str, ...]] = {
    # (about, tone, lang)
    ("sales", "negative", "en"): (
        "lazy",
        "slow",
        "arrogant",
        "short-sighted",
        "unreliable",
        "pushy",
        "greedy",
        "closed",
    ),
    ("sales", "negative", "it"): (
        "pigri",
        "lenti",
        "arroganti",
        "miopi",
        "inaffidabili",
        "insistenti",
        "avidi",
        "chiusi",
    ),
    ("marketing", "negative", "en"): (
        "disorganised",
        "out of touch",
        "theoretical",
        "expensive",
        "slow",
        "incompetent",
        "vague",
        "arrogant",
    ),
    ("marketing", "negative", "it"): (
        "disorganizzati",
        "lontani dalla realtà",
        "teorici",
        "costosi",
        "lenti",
        "incompetenti",
        "vaghi",
        "arroganti",
    ),
    ("sales", "positive", "en"): (
        "helpful",
        "responsive",
        "collaborative",
        "reliable",
        "determined",
        "supportive",
        "honest",
        "fast",
    ),
    ("sales", "positive", "it"): (
        "collaborativi",
        "disponibili",
        "affidabili",
        "reattivi",
        "determinati",
        "solidali",
        "onesti",
        "veloci",
    ),
    ("marketing", "positive", "en"): (
        "helpful",
        "creative",
        "collaborative",
        "reliable",
        "data-driven",
        "supportive",
        "clear",
        "responsive",
    ),
    ("marketing", "positive", "it"): (
        "collaborativi",
        "creativi",
        "affidabili",
        "disponibili",
        "concreti",
        "solidali",
        "chiari",
        "reattivi",
    ),
}
