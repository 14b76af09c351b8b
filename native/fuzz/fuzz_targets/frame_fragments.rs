//! Fuzz the fragment-to-frame mapping (PS3.5 §A.4): arbitrary fragment lists and offset tables, and the
//! splitting of a Pixel Data value into its items (`split_items`, for `dicomfast.encaps`).
#![no_main]

use _native::pixel::encaps::{Fragment, frame_bytes, frame_fragments, frames_by_tables, split_items};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, buf)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n_frames = usize::from(head[0] % 16);
    let n_frags = usize::from(head[1] % 16);
    // Fragment boundaries taken from the buffer itself, some of them out of range on purpose.
    let frags: Vec<Fragment> = buf
        .chunks(4)
        .take(n_frags)
        .map(|c| Fragment {
            offset: usize::from(c[0]),
            len: c.get(1).map_or(0, |&b| usize::from(b)),
        })
        .collect();
    let eot = (head[2] & 1 == 1).then(|| {
        buf.get(..(usize::from(head[3]) % 64).min(buf.len()))
            .unwrap_or_default()
    });
    for ts in [
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.5",
    ] {
        if let Ok(ranges) = frame_fragments(buf, &frags, eot, None, n_frames, ts) {
            for (i, r) in ranges.into_iter().enumerate() {
                let _ = frame_bytes(buf, &frags, r, ts, i);
            }
        }
    }
    // The buffer read as a Pixel Data value: its items, then its frames as dicomfast.encaps finds them.
    if let Ok(items) = split_items(buf) {
        let n = if n_frames > 0 { Some(n_frames) } else { frames_by_tables(&items, eot) };
        if let Some(n) = n.filter(|&n| n > 0)
            && let Ok(ranges) = frame_fragments(buf, &items, eot, None, n, "1.2.840.10008.1.2.4.50")
        {
            for (i, r) in ranges.into_iter().enumerate() {
                let _ = frame_bytes(buf, &items, r, "1.2.840.10008.1.2.4.50", i);
            }
        }
    }
});
