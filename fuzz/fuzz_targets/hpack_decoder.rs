//! The HPACK decoder (RFC 7541) on any header blocks: never a panic, the table within its
//! limit, the header list never collected beyond the limit.
#![no_main]

use bytes::Bytes;
use h2core::hpack::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let table = [0usize, 64, 4096, 65_536][first as usize & 3];
    let list = if first & 4 == 0 {
        16 * 1024
    } else {
        usize::MAX
    };
    let mut d = Decoder::new(table);
    d.set_max_header_list_size(list);
    // Several blocks in a row (split on 0xff 0x00 0xff), as one connection sees them.
    for block in rest.split(|&b| b == 0xfe) {
        let mut size = 0usize;
        let r = d.decode(&Bytes::copy_from_slice(block), |h| {
            size += h.name.len() + h.value.len() + 32;
        });
        if list != usize::MAX {
            assert!(size <= list, "collected a list of {size}");
        }
        let (_, table_size) = d.dynamic_table();
        assert!(table_size <= table);
        if r.is_err() && first & 8 == 0 {
            break;
        }
    }
});
