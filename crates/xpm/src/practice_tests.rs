use super::*;
use time::macros::datetime;

#[test]
fn modified_since_is_utc_without_zone() {
    assert_eq!(
        format_modified_since(datetime!(2024-03-01 09:30:15 +13:00)),
        "2024-02-29T20:30:15"
    );
    assert_eq!(
        format_modified_since(datetime!(2024-12-31 23:59:59.999 -05:00)),
        "2025-01-01T04:59:59"
    );
}
