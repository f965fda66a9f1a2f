"""Deterministic synthetic Amazon-like catalogue and shopping history (vectorised numpy).

The data has learnable collaborative structure, so collaborative filtering clearly beats popularity:

* every item belongs to one category and one *segment* (a style/taste cluster inside a category,
  e.g. "budget wireless audio"); inside a segment item popularity follows a power law;
* every user has a sparse Dirichlet taste mixture over a few segments; each interaction picks a
  segment from that mixture (or, with ``explore_prob``, an item by global popularity), then an
  item of the segment by its popularity (inverse-CDF sampling with ``searchsorted``);
* a slow taste drift makes later interactions favour one of the user's segments more, so
  leave-one-out-by-time is meaningful;
* each (user, item) interaction expands into a funnel of typed events
  (view -> click -> add_to_cart -> purchase -> rating) with increasing timestamps; funnel depth
  and the rating grow with the user's affinity for the item's segment.

Everything is drawn from ``np.random.SeedSequence(seed)``: the same config gives byte-identical
arrays, and the catalogue depends only on the item/category settings (not on ``n_users``).
Users, interactions and events are generated without Python loops over users or events; the only
loops run over categories, segments, brands and (to fill the :class:`ItemCatalogue` dicts) items.

Public API: :class:`SyntheticConfig`, :func:`generate`, :class:`SyntheticData`, :class:`EventLog`,
:func:`write_csv`, :data:`EVENT_TYPES`, :data:`CATEGORIES`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from core.catalogue import ItemCatalogue
from core.interactions import InteractionLog
from training.data.types import LoadedData

EVENT_TYPES: tuple[str, ...] = ("view", "click", "add_to_cart", "purchase", "rating")
VIEW, CLICK, ADD_TO_CART, PURCHASE, RATING = range(len(EVENT_TYPES))

# (name, {subcategory: nouns}, adjectives, (median price, lognormal sigma))
CATEGORIES: tuple[tuple[str, dict[str, list[str]], list[str], tuple[float, float]], ...] = (
    ("Electronics", {
        "Audio": ["Headphones", "Earbuds", "Speaker", "Soundbar", "Turntable"],
        "Computers": ["Laptop", "Keyboard", "Mouse", "Monitor", "Webcam"],
        "Cameras": ["Camera", "Lens", "Tripod", "Action Camera"],
        "Accessories": ["Charger", "Power Bank", "Smart Watch", "Tablet Stand"],
    }, ["Wireless", "Bluetooth", "Portable", "Ultra-Slim", "Noise-Cancelling", "4K", "Smart",
        "Compact"], (60.0, 0.9)),
    ("Beauty", {
        "Skin Care": ["Moisturizer", "Serum", "Cleanser", "Face Mask", "Sunscreen"],
        "Makeup": ["Lipstick", "Mascara", "Foundation", "Eyeliner", "Blush"],
        "Hair Care": ["Shampoo", "Conditioner", "Hair Oil", "Dry Shampoo"],
        "Fragrance": ["Perfume", "Body Mist", "Cologne"],
    }, ["Hydrating", "Organic", "Matte", "Vegan", "Long-Lasting", "Gentle", "Nourishing",
        "Radiant"], (18.0, 0.6)),
    ("Home & Kitchen", {
        "Cookware": ["Frying Pan", "Saucepan", "Dutch Oven", "Wok"],
        "Small Appliances": ["Blender", "Air Fryer", "Coffee Maker", "Toaster", "Kettle"],
        "Bedding": ["Duvet", "Pillow", "Sheet Set", "Throw Blanket"],
        "Storage": ["Storage Bin", "Spice Rack", "Food Container"],
    }, ["Nonstick", "Stainless Steel", "Ceramic", "Cast Iron", "Cotton", "Programmable",
        "Stackable", "Premium"], (35.0, 0.8)),
    ("Sports & Outdoors", {
        "Fitness": ["Yoga Mat", "Dumbbell Set", "Resistance Bands", "Jump Rope"],
        "Camping": ["Tent", "Sleeping Bag", "Camping Stove", "Headlamp"],
        "Cycling": ["Bike Helmet", "Bike Light", "Cycling Gloves"],
        "Water Sports": ["Snorkel Set", "Life Jacket", "Dry Bag"],
    }, ["Lightweight", "Waterproof", "Adjustable", "Heavy-Duty", "Foldable", "Ultralight",
        "Insulated", "Breathable"], (30.0, 0.8)),
    ("Books", {
        "Fiction": ["Novel", "Thriller", "Mystery Novel", "Short Stories"],
        "Non-Fiction": ["Biography", "Memoir", "History Book", "Essays"],
        "Children's Books": ["Picture Book", "Bedtime Stories", "Activity Book"],
        "Cookbooks": ["Cookbook", "Baking Guide"],
    }, ["Bestselling", "Illustrated", "Classic", "Award-Winning", "Paperback", "Hardcover",
        "Collector's", "Annotated"], (14.0, 0.4)),
    ("Toys & Games", {
        "Building Toys": ["Building Blocks", "Construction Set", "Marble Run"],
        "Board Games": ["Board Game", "Card Game", "Jigsaw Puzzle"],
        "Dolls & Figures": ["Action Figure", "Doll", "Plush Toy"],
        "Outdoor Play": ["Water Blaster", "Kite", "Scooter"],
    }, ["Educational", "Colorful", "Interactive", "Deluxe", "Mini", "Classic", "Family",
        "Magnetic"], (22.0, 0.6)),
    ("Grocery", {
        "Snacks": ["Granola Bars", "Trail Mix", "Potato Chips", "Crackers"],
        "Beverages": ["Green Tea", "Coffee Beans", "Sparkling Water", "Cold Brew"],
        "Pantry": ["Olive Oil", "Pasta", "Rice", "Honey"],
        "Breakfast": ["Cereal", "Oatmeal", "Pancake Mix"],
    }, ["Organic", "Gluten-Free", "Roasted", "Whole Grain", "Sea Salt", "Low-Sugar",
        "Family-Size", "Artisan"], (8.0, 0.5)),
    ("Clothing", {
        "Tops": ["T-Shirt", "Hoodie", "Sweater", "Polo Shirt"],
        "Bottoms": ["Jeans", "Chinos", "Joggers", "Shorts"],
        "Outerwear": ["Rain Jacket", "Puffer Jacket", "Fleece Vest"],
        "Activewear": ["Leggings", "Sports Bra", "Running Shorts"],
    }, ["Slim-Fit", "Cotton", "Relaxed", "Vintage", "Stretch", "Classic", "Oversized",
        "Quick-Dry"], (28.0, 0.5)),
    ("Tools & Home Improvement", {
        "Power Tools": ["Cordless Drill", "Circular Saw", "Impact Driver", "Sander"],
        "Hand Tools": ["Screwdriver Set", "Hammer", "Wrench Set", "Pliers"],
        "Lighting": ["LED Bulb", "Work Light", "Flashlight"],
        "Hardware": ["Tape Measure", "Stud Finder", "Tool Box"],
    }, ["Cordless", "Heavy-Duty", "Professional", "Magnetic", "Brushless", "Compact", "Rugged",
        "Precision"], (40.0, 0.9)),
    ("Office Products", {
        "Writing": ["Gel Pen", "Fountain Pen", "Highlighter Set", "Mechanical Pencil"],
        "Paper": ["Notebook", "Planner", "Sticky Notes", "Printer Paper"],
        "Desk Accessories": ["Desk Organizer", "Stapler", "Monitor Stand", "Desk Lamp"],
        "Office Furniture": ["Office Chair", "Standing Desk", "Filing Cabinet"],
    }, ["Ergonomic", "Refillable", "Ruled", "Recycled", "Minimalist", "Adjustable", "Executive",
        "Premium"], (15.0, 0.8)),
    ("Pet Supplies", {
        "Dogs": ["Dog Food", "Dog Leash", "Chew Toy", "Dog Bed"],
        "Cats": ["Cat Litter", "Cat Tree", "Scratching Post", "Cat Food"],
        "Fish & Aquatic": ["Aquarium Filter", "Fish Food", "Aquarium Heater"],
        "Small Animals": ["Hamster Cage", "Bird Feeder", "Rabbit Hutch"],
    }, ["Grain-Free", "Durable", "Orthopedic", "Natural", "Washable", "Interactive",
        "Odor-Control", "Chew-Proof"], (20.0, 0.7)),
    ("Automotive", {
        "Car Care": ["Car Wax", "Microfiber Towels", "Car Shampoo"],
        "Interior": ["Seat Cover", "Floor Mats", "Phone Mount", "Dash Cam"],
        "Tools & Equipment": ["Jump Starter", "Tire Inflator", "Socket Set"],
        "Replacement Parts": ["Wiper Blades", "Air Filter", "Brake Pads"],
    }, ["All-Weather", "Universal", "Heavy-Duty", "Portable", "Premium", "OEM-Grade",
        "Quick-Install", "Digital"], (30.0, 0.9)),
    ("Health & Household", {
        "Vitamins": ["Multivitamin", "Vitamin D3", "Fish Oil", "Probiotic"],
        "Personal Care": ["Electric Toothbrush", "Razor", "Floss Picks"],
        "Medical Supplies": ["Thermometer", "Blood Pressure Monitor", "First Aid Kit"],
        "Household Supplies": ["Laundry Detergent", "Dish Soap", "Paper Towels"],
    }, ["Extra-Strength", "Sugar-Free", "Fragrance-Free", "Travel-Size", "Value-Pack",
        "Sensitive", "Plant-Based", "Daily"], (15.0, 0.6)),
    ("Patio, Lawn & Garden", {
        "Gardening": ["Garden Hose", "Pruning Shears", "Raised Garden Bed", "Seed Kit"],
        "Outdoor Decor": ["Solar Lights", "Wind Chime", "Planter"],
        "Grills": ["Gas Grill", "Grill Cover", "BBQ Tool Set"],
        "Lawn Care": ["Lawn Mower", "Leaf Blower", "Sprinkler"],
    }, ["Weatherproof", "Solar-Powered", "Expandable", "Rust-Proof", "Cordless", "Decorative",
        "Heavy-Duty", "Self-Watering"], (35.0, 1.0)),
    ("Musical Instruments", {
        "Guitars": ["Acoustic Guitar", "Electric Guitar", "Guitar Strings", "Capo"],
        "Keyboards": ["Digital Piano", "MIDI Controller", "Keyboard Stand"],
        "Drums & Percussion": ["Drum Pad", "Cajon", "Drumsticks"],
        "Studio Recording": ["Microphone", "Audio Interface", "Studio Monitors"],
    }, ["Beginner", "Professional", "Vintage", "Compact", "Handcrafted", "Studio-Grade",
        "Weighted", "Portable"], (80.0, 1.0)),
    ("Video Games", {
        "Consoles": ["Game Console", "Handheld Console"],
        "Accessories": ["Controller", "Gaming Headset", "Charging Dock"],
        "Games": ["Racing Game", "RPG", "Puzzle Game", "Sports Game"],
        "PC Gaming": ["Gaming Mouse", "Mechanical Keyboard", "Mouse Pad"],
    }, ["Wireless", "RGB", "Limited Edition", "Pro", "Ergonomic", "Deluxe", "Collector's",
        "Turbo"], (45.0, 0.6)),
    ("Baby", {
        "Feeding": ["Baby Bottle", "High Chair", "Bib Set", "Sippy Cup"],
        "Nursery": ["Crib Sheet", "Baby Monitor", "Swaddle"],
        "Baby Gear": ["Stroller", "Car Seat", "Baby Carrier"],
        "Diapering": ["Diapers", "Baby Wipes", "Changing Pad"],
    }, ["Organic", "Soft", "BPA-Free", "Hypoallergenic", "Convertible", "Lightweight", "Gentle",
        "Anti-Colic"], (25.0, 0.8)),
    ("Jewelry", {
        "Necklaces": ["Pendant Necklace", "Chain Necklace", "Choker"],
        "Rings": ["Band Ring", "Statement Ring", "Stacking Ring"],
        "Earrings": ["Stud Earrings", "Hoop Earrings", "Drop Earrings"],
        "Bracelets": ["Charm Bracelet", "Bangle", "Cuff"],
    }, ["Sterling Silver", "Gold-Plated", "Rose Gold", "Minimalist", "Vintage", "Handmade",
        "Crystal", "Dainty"], (40.0, 0.9)),
    ("Shoes", {
        "Running": ["Running Shoes", "Trail Runners", "Racing Flats"],
        "Casual": ["Sneakers", "Loafers", "Slip-Ons"],
        "Boots": ["Hiking Boots", "Chelsea Boots", "Rain Boots"],
        "Sandals": ["Sandals", "Flip Flops", "Slides"],
    }, ["Cushioned", "Waterproof", "Leather", "Lightweight", "Slip-Resistant", "Breathable",
        "Wide-Fit", "Memory Foam"], (65.0, 0.4)),
    ("Arts & Crafts", {
        "Painting": ["Acrylic Paint Set", "Watercolor Set", "Paint Brushes", "Canvas Panels"],
        "Drawing": ["Sketchbook", "Colored Pencils", "Markers"],
        "Sewing": ["Sewing Kit", "Fabric Bundle", "Embroidery Kit"],
        "Crafting": ["Glue Gun", "Craft Paper", "Bead Kit"],
    }, ["Professional", "Washable", "Non-Toxic", "Vibrant", "Beginner", "Archival", "Assorted",
        "Deluxe"], (15.0, 0.6)),
    ("Cell Phones & Accessories", {
        "Cases": ["Phone Case", "Wallet Case", "Rugged Case"],
        "Chargers": ["Wireless Charger", "Car Charger", "Charging Cable"],
        "Screen Protectors": ["Screen Protector", "Privacy Screen", "Camera Lens Protector"],
        "Mounts": ["Phone Stand", "Selfie Stick", "Bike Phone Mount"],
    }, ["Shockproof", "Fast-Charging", "Tempered Glass", "Slim", "MagSafe", "Clear",
        "Braided", "Universal"], (20.0, 0.8)),
    ("Luggage & Travel", {
        "Suitcases": ["Carry-On", "Checked Suitcase", "Luggage Set"],
        "Backpacks": ["Travel Backpack", "Laptop Backpack", "Daypack"],
        "Travel Accessories": ["Packing Cubes", "Neck Pillow", "Luggage Tag"],
        "Bags": ["Duffel Bag", "Tote Bag", "Messenger Bag"],
    }, ["Hardshell", "Expandable", "Water-Resistant", "Anti-Theft", "Lightweight", "Spinner",
        "Carry-On Size", "Leather"], (60.0, 0.7)),
    ("Movies & TV", {
        "Drama": ["Drama Series", "Period Drama"],
        "Comedy": ["Comedy Special", "Sitcom Season"],
        "Action": ["Action Movie", "Superhero Movie", "Thriller Movie"],
        "Documentary": ["Nature Documentary", "True Crime Series"],
    }, ["Remastered", "Complete", "Director's Cut", "Blu-ray", "Special Edition", "4K Ultra HD",
        "Boxed", "Extended"], (15.0, 0.4)),
    ("Software", {
        "Productivity": ["Office Suite", "PDF Editor", "Note-Taking App"],
        "Security": ["Antivirus", "Password Manager", "VPN Subscription"],
        "Creative": ["Photo Editor", "Video Editor", "Music Producer"],
        "Education": ["Language Course", "Typing Tutor", "Coding Course"],
    }, ["Lifetime", "Annual", "Family", "Professional", "Cloud", "Multi-Device", "Premium",
        "Home"], (40.0, 0.8)),
)

# Pieces of pronounceable brand names ("Brax", "Velamo", "Kiratix" ...).
_ONSETS = ("B", "C", "D", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "V", "Z",
           "Br", "Cr", "Fl", "Gr", "Kr", "Pr", "St", "Tr", "Qu", "Al", "Au", "El", "Om", "Ev")
_VOWELS = ("a", "e", "i", "o", "u", "ia", "eo", "ai")
_MIDDLES = ("l", "n", "r", "v", "m", "t", "z", "s", "d", "k")
_CODAS = ("x", "n", "r", "ra", "ro", "va", "vo", "tix", "lux", "ton", "ly", "co", "nex", "mo",
          "ria", "dex", "sa", "ko")
_MODEL_LETTERS = "ABCDEFGHJKLMNPRSTVXZ"

_DAY = 86_400


@dataclass
class SyntheticConfig:
    """Knobs of the generator; the defaults give a quick, clearly learnable dataset."""

    n_users: int = 10_000
    n_items: int = 5_000
    n_categories: int = 20  # at most len(CATEGORIES)
    segments_per_category: int = 8
    mean_interactions_per_user: float = 20.0  # requested; dedupe leaves slightly fewer
    min_interactions_per_user: int = 5
    max_interactions_per_user: int = 1_000
    activity_sigma: float = 1.0  # lognormal spread of user activity (heavy tail)
    popularity_exponent: float = 1.0  # Zipf exponent of item popularity inside a segment
    segment_popularity_exponent: float = 0.8  # Zipf exponent of segment popularity
    taste_segments_per_user: int = 3
    taste_concentration: float = 1.0  # Dirichlet alpha of a user's segment weights
    explore_prob: float = 0.15  # share of interactions drawn from global popularity
    drift: float = 0.3  # at the end of a history this much extra mass goes to one taste segment
    click_prob: float = 0.55  # funnel probabilities, each conditional on the previous step
    cart_prob: float = 0.45
    purchase_prob: float = 0.65
    rating_prob: float = 0.55
    start_time: int = 1_672_531_200  # 2023-01-01T00:00:00Z
    span_days: int = 365
    seed: int = 0

    @property
    def n_segments(self) -> int:
        return self.n_categories * self.segments_per_category

    def validate(self) -> None:
        if self.n_users < 1 or self.n_items < 1:
            raise ValueError("n_users and n_items must be positive")
        if not 1 <= self.n_categories <= len(CATEGORIES):
            raise ValueError(
                f"n_categories must be in 1..{len(CATEGORIES)}, got {self.n_categories}")
        if self.segments_per_category < 1:
            raise ValueError("segments_per_category must be positive")
        if self.n_items < self.n_segments:
            raise ValueError(_too_few_items(self.n_items, self))
        if not 1 <= self.taste_segments_per_user <= self.n_segments:
            raise ValueError("taste_segments_per_user must be in 1..n_segments")
        if not 1 <= self.min_interactions_per_user <= self.max_interactions_per_user:
            raise ValueError("need 1 <= min_interactions_per_user <= max_interactions_per_user")
        if self.mean_interactions_per_user < self.min_interactions_per_user:
            raise ValueError("mean_interactions_per_user must be >= min_interactions_per_user")
        for name in ("explore_prob", "drift", "click_prob", "cart_prob", "purchase_prob",
                     "rating_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.span_days < 1:
            raise ValueError("span_days must be positive")


# Training on fewer users makes no sense: each user gives one test (and one validation) case, so
# the metrics would average over a handful of cases.
MIN_TRAINING_USERS = 10


def _too_few_items(n_items: int, config: SyntheticConfig) -> str:
    return (f"synthetic data needs at least {config.n_segments} items, got {n_items}: the catalogue is spread "
            f"over {config.n_categories} categories x {config.segments_per_category} taste segments, "
            f"each needing at least one item")


def check_training_size(n_users: int, n_items: int) -> None:
    """Refuse synthetic sizes too small to train and evaluate on, in the user's terms."""
    if n_users < MIN_TRAINING_USERS:
        raise ValueError(f"synthetic data needs at least {MIN_TRAINING_USERS} users, got {n_users}: each user's "
                         f"latest interactions become the test and validation cases, so fewer users give "
                         f"meaningless metrics")
    defaults = SyntheticConfig(n_users=n_users, n_items=n_items)
    if n_items < defaults.n_segments:
        raise ValueError(_too_few_items(n_items, defaults))


@dataclass(repr=False, eq=False)
class EventLog:
    """Typed events as parallel numpy arrays, sorted by (timestamp, type, interaction).

    Users and items are stored as indices into ``user_id_table`` / ``item_id_table`` (cheap for
    millions of events); :attr:`user_ids` / :attr:`item_ids` give the string ids.
    """

    event_id: np.ndarray  # int64, 1..n in log order (see event_id_strings for "E000000001")
    user_index: np.ndarray  # int32
    item_index: np.ndarray  # int32
    event_type: np.ndarray  # int8 codes into EVENT_TYPES
    value: np.ndarray  # float32: the rating for rating events, 1.0 otherwise
    timestamp: np.ndarray  # int64 unix seconds
    user_id_table: np.ndarray
    item_id_table: np.ndarray
    type_names: tuple[str, ...] = EVENT_TYPES

    def __len__(self) -> int:
        return len(self.event_id)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={n}" for name, n in self.counts().items())
        return f"EventLog({len(self)} events: {counts})"

    @property
    def user_ids(self) -> np.ndarray:
        return self.user_id_table[self.user_index]

    @property
    def item_ids(self) -> np.ndarray:
        return self.item_id_table[self.item_index]

    @property
    def event_type_names(self) -> np.ndarray:
        return np.asarray(self.type_names)[self.event_type]

    def event_id_strings(self) -> np.ndarray:
        return np.char.add("E", np.char.zfill(self.event_id.astype(str), 9))

    def code(self, name: str) -> int:
        try:
            return self.type_names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown event type {name!r}; expected one of {self.type_names}") from None

    def counts(self) -> dict[str, int]:
        counts = np.bincount(self.event_type, minlength=len(self.type_names))
        return {name: int(n) for name, n in zip(self.type_names, counts)}


@dataclass(repr=False, eq=False)
class SyntheticData:
    """A generated dataset: catalogue, ids, typed events and the hidden structure behind them."""

    config: SyntheticConfig
    catalogue: ItemCatalogue
    item_ids: np.ndarray  # str, "P0000000"...; sorted, so np.searchsorted maps id -> index
    user_ids: np.ndarray  # str, "U0000000"...; sorted likewise
    events: EventLog
    # Hidden structure, exposed for tests and diagnostics.
    item_category: np.ndarray  # int16 category index per item
    item_segment: np.ndarray  # int32 global segment index per item (category * spc + local)
    item_price: np.ndarray  # float64
    category_names: tuple[str, ...]
    segment_names: tuple[str, ...]  # e.g. "Electronics/Audio #1"
    user_segments: np.ndarray  # int32 (n_users, taste_segments_per_user)
    user_weights: np.ndarray  # float32 (n_users, taste_segments_per_user), rows sum to 1
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"SyntheticData({self.source}: {len(self.item_ids)} items, {len(self.user_ids)} "
                f"users, {self.events!r})")

    @property
    def source(self) -> str:
        c = self.config
        return f"synthetic:seed={c.seed},users={c.n_users},items={c.n_items}"

    def interactions(self, kind: str = "implicit") -> InteractionLog:
        """Interactions in string ids, sorted by time.

        ``implicit``: one row per distinct (user, item), time of its first event, no ratings.
        ``explicit``: the pairs with a rating event, with that rating and the rating's time.
        Any event type name (e.g. ``purchase``): the pairs with that event, at its time.
        """
        if kind not in self._cache:
            if kind == "implicit":
                code = VIEW
            elif kind == "explicit":
                code = RATING
            else:
                code = self.events.code(kind)
            ev = self.events
            mask = ev.event_type == code
            log = InteractionLog(
                user_ids=self.user_ids[ev.user_index[mask]],
                item_ids=self.item_ids[ev.item_index[mask]],
                ratings=ev.value[mask].copy() if kind == "explicit" else None,
                timestamps=ev.timestamp[mask].copy(),
            )
            self._cache[kind] = log
        return self._cache[kind]

    def to_loaded(self, kind: str = "implicit") -> LoadedData:
        return LoadedData(interactions=self.interactions(kind), source=self.source,
                          catalogue=self.catalogue)


# --------------------------------------------------------------------------------------------
# generation


def generate(config: SyntheticConfig | None = None) -> SyntheticData:
    """Generate a dataset; deterministic in ``config`` (same config -> identical arrays)."""
    config = SyntheticConfig() if config is None else config
    config.validate()
    catalogue_ss, taste_ss, history_ss, event_ss = np.random.SeedSequence(config.seed).spawn(4)
    items = _make_items(config, np.random.default_rng(catalogue_ss))
    users = _make_tastes(config, items["segment_prior"], np.random.default_rng(taste_ss))
    inter = _make_interactions(config, items, users, np.random.default_rng(history_ss))
    events = _make_events(config, items, users, inter, np.random.default_rng(event_ss))

    user_ids = _ids("U", config.n_users)
    item_ids = items["ids"]
    log = EventLog(user_id_table=user_ids, item_id_table=item_ids, **events)
    return SyntheticData(
        config=config,
        catalogue=items["catalogue"],
        item_ids=item_ids,
        user_ids=user_ids,
        events=log,
        item_category=items["category"],
        item_segment=items["segment"],
        item_price=items["price"],
        category_names=items["category_names"],
        segment_names=items["segment_names"],
        user_segments=users["segments"],
        user_weights=users["weights"],
    )


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(7, len(str(max(n - 1, 0))))
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width))


def _zipf(n: int, exponent: float) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.float64) ** -exponent


def _brand_names(n: int, rng: np.random.Generator) -> list[str]:
    short = [o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS]
    names = list(dict.fromkeys(s.capitalize() for s in short))
    chosen = [names[i] for i in rng.permutation(len(names))[:n]]
    if len(chosen) < n:  # more brands than short names: add three-syllable ones
        seen = set(names)
        longer = [o + v + m + v2 + c for o in _ONSETS for v in _VOWELS for m in _MIDDLES
                  for v2 in ("a", "e", "i", "o") for c in _CODAS]
        longer = [s.capitalize() for s in dict.fromkeys(longer) if s.capitalize() not in seen]
        chosen += [longer[i] for i in rng.permutation(len(longer))[: n - len(chosen)]]
    if len(chosen) < n:
        raise ValueError(f"cannot synthesise {n} distinct brand names")
    return chosen


def _make_items(cfg: SyntheticConfig, rng: np.random.Generator) -> dict:
    n_items, n_cat, spc = cfg.n_items, cfg.n_categories, cfg.segments_per_category
    n_seg = cfg.n_segments
    cats = CATEGORIES[:n_cat]

    # Segment popularity (Zipf over a random order); popular segments also stock more items.
    segment_prior = np.empty(n_seg)
    segment_prior[rng.permutation(n_seg)] = _zipf(n_seg, cfg.segment_popularity_exponent)
    segment_prior /= segment_prior.sum()
    stock = np.sqrt(segment_prior)
    seg_sizes = 1 + rng.multinomial(n_items - n_seg, stock / stock.sum())
    segment = np.repeat(np.arange(n_seg, dtype=np.int32), seg_sizes)
    rng.shuffle(segment)  # item index (hence id) says nothing about the segment
    category = (segment // spc).astype(np.int16)

    # Within-segment popularity rank is random too: order items by (segment, random key).
    order = np.lexsort((rng.random(n_items), segment))  # items grouped by segment
    seg_start = np.r_[0, np.cumsum(seg_sizes)[:-1]]
    rank = np.arange(n_items) - np.repeat(seg_start, seg_sizes)  # rank of order[j]
    within = (rank + 1.0) ** -cfg.popularity_exponent
    csum = np.cumsum(within)
    seg_total = np.add.reduceat(within, seg_start)
    seg_before = csum[seg_start] - within[seg_start]
    within_cdf = (csum - np.repeat(seg_before, seg_sizes)) / np.repeat(seg_total, seg_sizes)
    within_share = within / np.repeat(seg_total, seg_sizes)

    # Metadata: per-segment subcategory, style adjectives, brand subset and price level.
    n_brands = int(np.clip(n_items // 50, 4 * n_cat, 5_000))
    brand_names = _brand_names(n_brands, rng)
    brand_cat_count = rng.choice([1, 2, 3], size=n_brands, p=[0.5, 0.35, 0.15])
    brands_of_cat: list[list[int]] = [[] for _ in range(n_cat)]
    for b in range(n_brands):
        for c in rng.choice(n_cat, size=brand_cat_count[b], replace=False):
            brands_of_cat[c].append(b)
    for c in range(n_cat):  # every category carries at least three brands
        while len(brands_of_cat[c]) < 3:
            b = int(rng.integers(n_brands))
            if b not in brands_of_cat[c]:
                brands_of_cat[c].append(b)

    item_brand = np.empty(n_items, dtype=np.int32)
    item_adj = np.empty(n_items, dtype=np.int32)  # index into the category's adjectives
    item_noun = np.empty(n_items, dtype=np.int32)  # index into the subcategory's nouns
    item_sub = np.empty(n_items, dtype=np.int32)
    price = np.empty(n_items)
    segment_names = []
    by_seg = np.split(order, seg_start[1:])
    for s in range(n_seg):
        c, local = divmod(s, spc)
        _, subcats, adjectives, (median, sigma) = cats[c]
        sub_names = list(subcats)
        sub = local % len(sub_names)
        segment_names.append(f"{cats[c][0]}/{sub_names[sub]} #{local // len(sub_names) + 1}")
        members = by_seg[s]
        m = len(members)
        style = rng.choice(len(adjectives), size=min(3, len(adjectives)), replace=False)
        item_adj[members] = style[rng.integers(len(style), size=m)]
        item_noun[members] = rng.integers(len(subcats[sub_names[sub]]), size=m)
        item_sub[members] = sub
        pool = np.asarray(brands_of_cat[c])
        seg_brands = rng.choice(pool, size=min(4, len(pool)), replace=False)
        bw = _zipf(len(seg_brands), 1.0)
        item_brand[members] = seg_brands[rng.choice(len(seg_brands), size=m, p=bw / bw.sum())]
        level = median * np.exp(rng.normal(0.0, 0.35))  # budget vs premium styles
        price[members] = level * np.exp(rng.normal(0.0, sigma, size=m))
    price = np.maximum(np.round(price, 2), 0.99)

    ids = _ids("P", n_items)
    titles: dict[str, str] = {}
    categories: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, item_id in enumerate(ids.tolist()):
        c = int(category[i])
        name, subcats, adjectives, _ = cats[c]
        sub_name = list(subcats)[item_sub[i]]
        noun = subcats[sub_name][item_noun[i]]
        title = f"{brand_names[item_brand[i]]} {adjectives[item_adj[i]]} {noun}"
        if title in seen:  # a second product line of the same kind gets a model code
            h = (i * 2_654_435_761) % 18_000
            title = f"{title} {_MODEL_LETTERS[h % 20]}{100 + h // 20}"
        seen.add(title)
        titles[item_id] = title
        categories[item_id] = [name, sub_name]
    id_list = ids.tolist()
    catalogue = ItemCatalogue(
        titles=titles,
        categories=categories,
        brands=dict(zip(id_list, [brand_names[b] for b in item_brand.tolist()])),
        prices=dict(zip(id_list, price.tolist())),
    )
    return {
        "ids": ids,
        "catalogue": catalogue,
        "segment": segment,
        "category": category,
        "price": price,
        "category_names": tuple(c[0] for c in cats),
        "segment_names": tuple(segment_names),
        "segment_prior": segment_prior,
        "order": order,  # item indices grouped by segment, by popularity rank inside
        "seg_start": seg_start,
        "seg_sizes": seg_sizes,
        "within_cdf": within_cdf,  # per position of ``order``
        "within_share": within_share,
        "quality": rng.normal(0.0, 0.4, size=n_items),  # rating bias per item
    }


def _make_tastes(cfg: SyntheticConfig, segment_prior: np.ndarray,
                 rng: np.random.Generator) -> dict:
    """Each user: k distinct segments (weighted by segment popularity, Gumbel top-k) with
    Dirichlet weights; the last slot is the one the taste drifts towards."""
    n_users, k, n_seg = cfg.n_users, cfg.taste_segments_per_user, cfg.n_segments
    log_prior = np.log(segment_prior)
    segments = np.empty((n_users, k), dtype=np.int32)
    chunk = max(1, 4_000_000 // n_seg)
    for lo in range(0, n_users, chunk):  # bounded memory; a handful of iterations
        hi = min(n_users, lo + chunk)
        keys = log_prior + rng.gumbel(size=(hi - lo, n_seg))
        if k < n_seg:
            top = np.argpartition(-keys, k - 1, axis=1)[:, :k]
        else:
            top = np.argsort(-keys, axis=1)
        top_keys = np.take_along_axis(keys, top, axis=1)
        segments[lo:hi] = np.take_along_axis(top, np.argsort(-top_keys, axis=1), axis=1)
    weights = rng.dirichlet(np.full(k, cfg.taste_concentration), size=n_users)
    return {
        "segments": segments,
        "weights": weights.astype(np.float32),
        "bias": rng.normal(0.0, 0.3, size=n_users),  # rating bias per user
    }


def _make_interactions(cfg: SyntheticConfig, items: dict, users: dict,
                       rng: np.random.Generator) -> dict:
    n_users, n_items, k = cfg.n_users, cfg.n_items, cfg.taste_segments_per_user

    # Heavy-tailed activity: min + lognormal with the requested mean.
    extra_mean = cfg.mean_interactions_per_user - cfg.min_interactions_per_user
    cap = min(cfg.max_interactions_per_user, max(cfg.min_interactions_per_user, n_items // 2))
    if extra_mean > 0:
        mu = np.log(extra_mean) - cfg.activity_sigma ** 2 / 2
        extra = np.rint(rng.lognormal(mu, cfg.activity_sigma, size=n_users))
    else:
        extra = np.zeros(n_users)
    wanted = np.minimum(cfg.min_interactions_per_user + extra, cap).astype(np.int64)

    # Oversample candidates, drop repeated (user, item), keep each user's first `wanted`.
    n_cand = np.ceil(wanted * 1.35).astype(np.int64) + 2
    cand_start = np.r_[0, np.cumsum(n_cand)[:-1]]
    total = int(n_cand.sum())
    user = np.repeat(np.arange(n_users, dtype=np.int64), n_cand)
    pos = np.arange(total) - np.repeat(cand_start, n_cand)
    progress = pos / np.repeat(n_cand, n_cand)  # 0 .. 1 through the history

    # Which taste slot: drift towards the last slot late in the history, else the mixture.
    cum_w = np.cumsum(users["weights"].astype(np.float64), axis=1)
    slot = (rng.random(total)[:, None] >= cum_w[user]).sum(axis=1)
    slot = np.minimum(slot, k - 1)
    slot[rng.random(total) < cfg.drift * progress] = k - 1
    seg = users["segments"][user, slot].astype(np.int64)

    # Item inside the segment by power-law popularity (inverse CDF over the segment's block).
    order, seg_start, seg_sizes = items["order"], items["seg_start"], items["seg_sizes"]
    seg_of_pos = np.repeat(np.arange(len(seg_sizes)), seg_sizes)
    keyed_cdf = seg_of_pos + items["within_cdf"]  # increasing across the whole catalogue
    j = np.searchsorted(keyed_cdf, seg + rng.random(total), side="right")
    j = np.clip(j, seg_start[seg], seg_start[seg] + seg_sizes[seg] - 1)
    item = order[j]

    # Exploration: an item by global popularity.
    explore = rng.random(total) < cfg.explore_prob
    global_p = items["segment_prior"][seg_of_pos] * items["within_share"]
    global_cdf = np.cumsum(global_p)
    global_cdf /= global_cdf[-1]
    n_explore = int(explore.sum())
    pick = np.searchsorted(global_cdf, rng.random(n_explore), side="right")
    item[explore] = order[np.minimum(pick, n_items - 1)]

    key = user * n_items + item
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(total, dtype=bool)
    keep[first] = True
    kept_before = np.cumsum(keep) - keep  # kept candidates before this one, overall
    rank = kept_before - kept_before[cand_start][user]
    keep &= rank < wanted[user]
    user, item = user[keep], item[keep]

    # Timestamps: each user active in a window; increasing times from normalised cumulative
    # exponential gaps (uniform order statistics), +position so they are strictly increasing.
    counts = np.bincount(user, minlength=n_users)
    span = cfg.span_days * _DAY
    first_day = rng.random(n_users) * 0.6 * span
    length = (span - first_day) * rng.uniform(0.4, 1.0, size=n_users) - counts - 1
    length = np.maximum(length, 0)
    n = len(user)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    gaps = rng.exponential(size=n)
    csum = np.cumsum(gaps)
    padded = np.r_[0.0, csum]
    before = padded[start]  # gaps of earlier users
    last = padded[start + counts]  # up to and including the user's last row
    denom = last - before + rng.exponential(size=n_users)
    frac = (csum - np.repeat(before, counts)) / np.repeat(denom, counts)
    within_user = np.arange(n) - np.repeat(start, counts)
    ts = (cfg.start_time + np.repeat(first_day, counts).astype(np.int64)
          + np.floor(frac * np.repeat(length, counts)).astype(np.int64) + within_user)
    return {"user": user, "item": item, "timestamp": ts}


def _make_events(cfg: SyntheticConfig, items: dict, users: dict, inter: dict,
                 rng: np.random.Generator) -> dict:
    user, item, ts = inter["user"], inter["item"], inter["timestamp"]
    n = len(user)
    # Affinity: the user's weight on the item's segment, relative to their favourite segment.
    w = users["weights"][user]
    match = users["segments"][user] == items["segment"][item][:, None]
    rel = (w * match).sum(axis=1) / w.max(axis=1)

    clicked = rng.random(n) < np.clip(cfg.click_prob * (0.7 + 0.6 * rel), 0, 1)
    carted = clicked & (rng.random(n) < np.clip(cfg.cart_prob * (0.6 + 0.8 * rel), 0, 1))
    bought = carted & (rng.random(n) < np.clip(cfg.purchase_prob * (0.7 + 0.6 * rel), 0, 1))
    rated = bought & (rng.random(n) < cfg.rating_prob)

    t_click = ts + 1 + rng.exponential(30.0, size=n).astype(np.int64)
    t_cart = t_click + 1 + rng.exponential(180.0, size=n).astype(np.int64)
    t_buy = t_cart + 1 + rng.exponential(900.0, size=n).astype(np.int64)
    t_rate = t_buy + 1 + rng.exponential(5.0 * _DAY, size=n).astype(np.int64)

    mu = 2.4 + 2.2 * rel + users["bias"][user] + items["quality"][item]
    rating = np.clip(np.rint(mu + rng.normal(0.0, 0.7, size=n)), 1, 5).astype(np.float32)

    stages = (clicked, carted, bought, rated)
    idx = np.concatenate([np.arange(n), *(np.flatnonzero(m) for m in stages)])
    kinds = np.repeat(np.arange(len(EVENT_TYPES), dtype=np.int8),
                      [n, clicked.sum(), carted.sum(), bought.sum(), rated.sum()])
    stamp = np.concatenate([ts, t_click[clicked], t_cart[carted], t_buy[bought], t_rate[rated]])
    value = np.ones(len(idx), dtype=np.float32)
    value[kinds == RATING] = rating[rated]

    order = np.argsort(stamp * len(EVENT_TYPES) + kinds, kind="stable")
    idx = idx[order]
    return {
        "event_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "user_index": user[idx].astype(np.int32),
        "item_index": item[idx].astype(np.int32),
        "event_type": kinds[order],
        "value": value[order],
        "timestamp": stamp[order],
    }


# --------------------------------------------------------------------------------------------
# export


def write_csv(data: SyntheticData, path: str | os.PathLike[str], kind: str = "implicit") -> int:
    """Write ``data.interactions(kind)`` as CSV with header ``user,item,rating,timestamp``
    (rating empty for implicit). Returns the number of rows written."""
    log = data.interactions(kind)
    ts = log.timestamps.astype(str)
    if log.ratings is None:
        ratings = np.full(len(log), "", dtype="<U1")
    else:
        ratings = np.char.mod("%g", log.ratings.astype(np.float64))
    rows = (f"{u},{i},{r},{t}" for u, i, r, t in
            zip(log.user_ids.tolist(), log.item_ids.tolist(), ratings.tolist(), ts.tolist()))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("user,item,rating,timestamp\n")
        handle.write("\n".join(rows))
        if len(log):
            handle.write("\n")
    return len(log)
