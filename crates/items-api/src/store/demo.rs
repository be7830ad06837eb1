//! The items demo mode starts with.

/// One demo item.
pub(super) struct DemoItem {
    /// Its owner's user id at dev-idp (the access token's `uid`).
    pub(super) owner: &'static str,
    /// Its name.
    pub(super) name: &'static str,
    /// Its description.
    pub(super) description: &'static str,
    /// Its price, in cents.
    pub(super) price_cents: i64,
    /// Its tags (lower case, unique).
    pub(super) tags: &'static [&'static str],
}

/// Alice's demo account (`alice@example.com`): her user id at dev-idp.
pub(super) const ALICE: &str = "00u1alice0000000001";
/// Bob's demo account (`bob@example.com`): his user id at dev-idp.
pub(super) const BOB: &str = "00u2bob00000000002";

/// The demo items, oldest first.
pub(super) const ITEMS: &[DemoItem] = &[
    DemoItem {
        owner: ALICE,
        name: "Espresso machine",
        description: "Dual boiler, barely used. Descaled last month.",
        price_cents: 24900,
        tags: &["kitchen", "coffee"],
    },
    DemoItem {
        owner: BOB,
        name: "Camping stove",
        description: "Two burners, runs on butane cartridges.",
        price_cents: 5425,
        tags: &["outdoor", "camping"],
    },
    DemoItem {
        owner: ALICE,
        name: "Trail running shoes",
        description: "Size 39, worn for one race.",
        price_cents: 12995,
        tags: &["sport", "shoes"],
    },
    DemoItem {
        owner: BOB,
        name: "Noise-cancelling headphones",
        description: "Over-ear, with a hard case and a spare cable.",
        price_cents: 19999,
        tags: &["electronics", "travel"],
    },
    DemoItem {
        owner: ALICE,
        name: "Mechanical keyboard",
        description: "Tenkeyless, brown switches.",
        price_cents: 8950,
        tags: &["desk", "electronics"],
    },
    DemoItem {
        owner: BOB,
        name: "Watercolour set",
        description: "24 half pans and two brushes.",
        price_cents: 3280,
        tags: &["art"],
    },
    DemoItem {
        owner: ALICE,
        name: "Sourdough starter kit",
        description: "Jar, scraper and a dried starter.",
        price_cents: 2400,
        tags: &["kitchen", "baking"],
    },
];
