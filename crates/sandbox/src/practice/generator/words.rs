//! The vocabulary generated practices are made of. Each person name carries an ASCII slug for
//! e-mail addresses, as a real practice's records would (`Tāne` → `tane`, `王` → `wang`).

/// (display, slug)
pub(super) type Word = (&'static str, &'static str);

pub(super) const FIRST_NAMES_FEMALE: &[Word] = &[
    ("Olivia", "olivia"),
    ("Charlotte", "charlotte"),
    ("Amelia", "amelia"),
    ("Isla", "isla"),
    ("Grace", "grace"),
    ("Emily", "emily"),
    ("Sarah", "sarah"),
    ("Aroha", "aroha"),
    ("Mere", "mere"),
    ("Māia", "maia"),
    ("Ngaio", "ngaio"),
    ("Zoë", "zoe"),
    ("Renée", "renee"),
    ("Siobhán", "siobhan"),
    ("Chloé", "chloe"),
    ("Priya", "priya"),
    ("Mei", "mei"),
    ("Yuki", "yuki"),
    ("Fatima", "fatima"),
    ("Losa", "losa"),
    ("Ana", "ana"),
    ("Niamh", "niamh"),
    ("Hannah", "hannah"),
    ("Ruby", "ruby"),
];

pub(super) const FIRST_NAMES_MALE: &[Word] = &[
    ("James", "james"),
    ("Oliver", "oliver"),
    ("Jack", "jack"),
    ("William", "william"),
    ("Lucas", "lucas"),
    ("Noah", "noah"),
    ("Liam", "liam"),
    ("Thomas", "thomas"),
    ("Wiremu", "wiremu"),
    ("Tāne", "tane"),
    ("Rāwiri", "rawiri"),
    ("José", "jose"),
    ("Søren", "soren"),
    ("François", "francois"),
    ("Arjun", "arjun"),
    ("Wei", "wei"),
    ("Hiroshi", "hiroshi"),
    ("Mohammed", "mohammed"),
    ("Sione", "sione"),
    ("Tavita", "tavita"),
    ("Dmitri", "dmitri"),
    ("Ethan", "ethan"),
    ("Samuel", "samuel"),
    ("Henry", "henry"),
];

pub(super) const LAST_NAMES: &[Word] = &[
    ("Smith", "smith"),
    ("Wilson", "wilson"),
    ("Brown", "brown"),
    ("Taylor", "taylor"),
    ("Williams", "williams"),
    ("Jones", "jones"),
    ("Campbell", "campbell"),
    ("Stewart", "stewart"),
    ("Ngata", "ngata"),
    ("Te Whare", "tewhare"),
    ("Parata", "parata"),
    ("Tāwhiri", "tawhiri"),
    ("Kōtuku", "kotuku"),
    ("O'Brien", "obrien"),
    ("O'Connor", "oconnor"),
    ("MacDonald", "macdonald"),
    ("Müller", "muller"),
    ("García", "garcia"),
    ("Nguyen", "nguyen"),
    ("Patel", "patel"),
    ("Singh", "singh"),
    ("Chen", "chen"),
    ("Kim", "kim"),
    ("Tanaka", "tanaka"),
    ("Fa'afoi", "faafoi"),
    ("Lemalu", "lemalu"),
    ("van der Berg", "vanderberg"),
    ("D'Souza", "dsouza"),
    ("Brontë", "bronte"),
    ("Thompson", "thompson"),
    ("Walker", "walker"),
    ("Robinson", "robinson"),
];

/// Whole names written in their own script: (family, given, family slug, given slug).
pub(super) const CJK_NAMES: &[(&str, &str, &str, &str)] = &[
    ("王", "伟", "wang", "wei"),
    ("李", "娜", "li", "na"),
    ("张", "敏", "zhang", "min"),
    ("陈", "静", "chen", "jing"),
    ("刘", "洋", "liu", "yang"),
    ("佐藤", "花子", "sato", "hanako"),
    ("김", "민준", "kim", "minjun"),
];

pub(super) const INDUSTRIES: &[&str] = &[
    "Plumbing",
    "Dairy",
    "Construction",
    "Orchards",
    "Consulting",
    "Property",
    "Engineering",
    "Design",
    "Transport",
    "Vineyards",
    "Dental",
    "Electrical",
    "Landscaping",
    "Physiotherapy",
    "Joinery",
    "Logistics",
    "Kai Kitchen",
    "Motors",
    "Surf School",
    "Bakery",
];

pub(super) const COMPANY_WORDS: &[&str] = &[
    "Holdings",
    "Investments",
    "Enterprises",
    "Group",
    "Services",
    "Ventures",
    "Solutions",
];

/// Entity names that must survive every layer: markup characters, quotes, accents, macrons,
/// other scripts and emoji. Some generated entities take one of these instead of a made-up name.
pub(super) const AWKWARD_ENTITY_NAMES: &[&str] = &[
    "A<B Analytics",
    "\"Best\" Bakery",
    "O'Neill's Irish Pub",
    "Café Ōtautahi",
    "Sunrise ☀️ Surf School",
    "🌿 Green Leaf",
    "北京饭店",
    "Ngā Hau e Whā",
    "Tom & Jerry's <Cheese> Co",
    "Ünïcödé Testing & Co",
    "Less < More > Design",
    "Smith & Sons",
    "Māori & Pacific Health",
    "Ωmega Fitness",
];

/// (city, region, post code)
pub(super) const NZ_PLACES: &[(&str, &str, &str)] = &[
    ("Auckland", "Auckland", "1010"),
    ("Wellington", "Wellington", "6011"),
    ("Christchurch", "Canterbury", "8011"),
    ("Hamilton", "Waikato", "3204"),
    ("Tauranga", "Bay of Plenty", "3110"),
    ("Dunedin", "Otago", "9016"),
    ("Whangārei", "Northland", "0110"),
    ("Taupō", "Waikato", "3330"),
    ("Napier", "Hawke's Bay", "4110"),
    ("Nelson", "Nelson", "7010"),
];

pub(super) const AU_PLACES: &[(&str, &str, &str)] = &[
    ("Sydney", "NSW", "2000"),
    ("Melbourne", "VIC", "3000"),
    ("Brisbane", "QLD", "4000"),
    ("Perth", "WA", "6000"),
    ("Adelaide", "SA", "5000"),
    ("Hobart", "TAS", "7000"),
    ("Canberra", "ACT", "2600"),
    ("Darwin", "NT", "0800"),
    ("Newcastle", "NSW", "2300"),
    ("Geelong", "VIC", "3220"),
];

pub(super) const STREETS: &[&str] = &[
    "Queen Street",
    "George Street",
    "Te Awa Road",
    "Victoria Avenue",
    "High Street",
    "Marine Parade",
    "Kāpiti Road",
    "Station Road",
    "Collins Street",
    "Karangahape Road",
    "King William Street",
    "Church Street",
];

pub(super) const STAFF: &[&str] = &[
    "Ava Partner",
    "Ben Manager",
    "Cleo Junior",
    "Dinesh Rao",
    "Erin Walsh",
    "Fetu Taufa",
    "Greta Lindqvist",
    "Hemi Walker",
];

pub(super) const GROUP_THEMES: &[&str] = &[
    "Dairy Farmers",
    "Property Investors",
    "Medical Professionals",
    "Hospitality",
    "Monthly GST",
    "Annual Accounts",
    "Trusts under review",
    "Start-ups",
    "Kiwisaver & Super",
    "Priority <A> clients",
];

pub(super) const NOTE_TITLES: &[&str] = &[
    "Engagement letter",
    "Year-end meeting",
    "Phone call",
    "GST query",
    "Provisional tax",
    "Change of address",
    "Fees & billing",
    "Trust deed review",
];

pub(super) const NOTE_SENTENCES: &[&str] = &[
    "Client called about the year-end accounts.",
    "Sent the engagement letter for signature.",
    "Discussed cash flow & drawings for the next quarter.",
    "Asked for bank statements < 30 days old.",
    "Client prefers e-mail over phone.",
    "Reminder: \"final\" figures due before the 7th.",
    "Spoke with the bookkeeper re: payroll.",
    "Fees for the year agreed; invoice monthly.",
    "Kōrero with the trustees about the deed.",
    "Follow up after the holidays 🎄.",
];

pub(super) const NOTE_FOLDERS: &[&str] = &["General", "Tax", "Compliance", "Billing"];

pub(super) const POSITIONS: &[&str] = &[
    "Director",
    "Owner",
    "Bookkeeper",
    "Trustee",
    "Spouse",
    "Office Manager",
    "Partner",
    "Accounts Payable",
];

pub(super) const REFERRAL_SOURCES: &[&str] = &["Website", "Existing client", "Bank referral", "Seminar"];
