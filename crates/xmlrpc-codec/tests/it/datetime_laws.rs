//! proptest: `DateTime`'s `Eq`, `Ord` and `Hash` obey their laws.
//!
//! Values are drawn from a narrow range (a few days, a few offsets, leap seconds) so
//! that equal instants written differently, and exact duplicates, come up often.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use proptest::prelude::*;
use xmlrpc_codec::DateTime;

fn date_time() -> impl Strategy<Value = DateTime> {
    (
        (1999u16..=2000, 12u8..=12, 30u8..=31),
        (0u8..=1, 0u8..=1, prop_oneof![Just(0u8), Just(59), Just(60)]),
        prop_oneof![Just(0u32), Just(500_000_000)],
        prop_oneof![
            Just(None),
            Just(Some(0i16)),
            Just(Some(60)),
            Just(Some(-60)),
            Just(Some(1439)),
        ],
    )
        .prop_map(|((y, mo, d), (h, mi, s), nanos, offset)| {
            DateTime::new(y, mo, d, h * 23, mi * 59, s)
                .and_then(|dt| dt.with_nanosecond(nanos))
                .and_then(|dt| dt.with_offset_minutes(offset))
                .expect("valid by construction")
        })
}

fn hash(dt: &DateTime) -> u64 {
    let mut h = DefaultHasher::new();
    dt.hash(&mut h);
    h.finish()
}

proptest! {
    #[test]
    fn date_time_eq_ord_and_hash_are_lawful(
        a in date_time(),
        b in date_time(),
        c in date_time(),
    ) {
        // Reflexive; Eq exactly when cmp is Equal; partial_cmp agrees with cmp.
        prop_assert_eq!(a.cmp(&a), Ordering::Equal);
        prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        // Antisymmetric.
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        // Transitive.
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
        if a < b && b < c {
            prop_assert!(a < c);
        }
        // Equality is the text: equal values write the same, and only they do.
        prop_assert_eq!(a == b, a.to_string() == b.to_string());
        // Hash agrees with Eq.
        if a == b {
            prop_assert_eq!(hash(&a), hash(&b));
        }
        // The order follows the instant where the instant is known.
        if let Some(by_instant) = a.cmp_instant(&b)
            && by_instant != Ordering::Equal
        {
            prop_assert_eq!(a.cmp(&b), by_instant);
        }
    }

    #[test]
    fn date_time_read_back_is_equal_and_hashes_alike(a in date_time()) {
        let b: DateTime = a.to_string().parse().unwrap();
        prop_assert_eq!(a, b);
        prop_assert_eq!(hash(&a), hash(&b));
    }
}
