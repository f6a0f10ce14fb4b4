//! Parses arbitrary bytes as Login/Text key=value data; every pair that parses must be
//! writable again and read back unchanged.
//!
//! Shared by the cargo-fuzz target and the stable corpus replay (`tests/tests/fuzz_replay.rs`).

use initiator::text::{TextAccumulator, TextIter, TextWriter};

/// Runs one fuzz input.
pub fn run(input: &[u8]) {
    let mut storage = vec![0u8; input.len()];
    let mut writer = TextWriter::new(&mut storage);
    for pair in TextIter::new(input) {
        let Ok((key, value)) = pair else { break };
        writer
            .push(key, value)
            .expect("a parsed pair fits where it came from");
    }
    let written = writer.as_bytes().to_vec();
    let reparsed: Vec<_> = TextIter::new(&written).collect();
    assert!(reparsed.iter().all(Result::is_ok));

    // Continued segments: split anywhere, accumulate, same bytes.
    let mut acc_storage = vec![0u8; input.len()];
    let mut acc = TextAccumulator::new(&mut acc_storage);
    let cut = input
        .first()
        .map_or(0, |&b| usize::from(b) % (input.len() + 1));
    acc.push(&input[..cut]).expect("fits");
    acc.push(&input[cut..]).expect("fits");
    assert_eq!(acc.as_bytes(), input);
}
