//! Feeds arbitrary bytes to the streaming decoder: it must never panic, and must stop after at
//! most one item per `<` in the input.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run decode -- -max_total_time=60` from crates/xpm (see
//! crates/xpm/fuzz/README.md).

#![no_main]

use hownow_xpm::decode::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bound = data.iter().filter(|&&b| b == b'<').count() + 1;
    let mut decoder = Decoder::new(data);
    let mut items = 0usize;
    loop {
        match decoder.next_item() {
            Ok(Some(_)) => {
                items += 1;
                assert!(
                    items <= bound,
                    "the decoder yields more items than the input can hold"
                );
            }
            Ok(None) => break,
            Err(_) => {
                assert!(decoder.next_item().is_err(), "a failed decoder must stay failed");
                break;
            }
        }
    }
});
