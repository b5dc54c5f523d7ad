//! The read side of one connection's socket: where each read of at most [`READ_CHUNK`] bytes
//! goes, so that frames are cut from the buffer (RFC 9113 §4.1) without being copied.
//!
//! DATA payloads handed to the application are slices of the read buffer, so a buffer block
//! stays allocated while any of them lives. A full DATA frame (16,393 bytes) does not line up
//! with 16 KiB reads, so the buffer nearly always ends in a partial frame. Making room for each
//! read with a plain `reserve` copied that partial frame into a new allocation at every read
//! (the previous payload was still queued for its reader): a copy of almost every received
//! byte, an allocation per read, and fresh memory faulted in page by page.
//!
//! [`ReadBlocks`] reads a busy connection into blocks of [`READ_BLOCK`] bytes, several reads
//! each: a partial frame is copied once per block, not per read. Filled blocks wait in a short
//! queue and serve again once the application dropped every payload cut from them, so a long
//! download reuses the same memory instead of allocating it anew.
//!
//! A payload keeps its whole block alive, so a peer that placed one small DATA frame in each
//! block (between control frames) would hold a block per payload: five times what one read's
//! reservation holds. The adapters use blocks for a client's connections (a server the
//! application chose to download from), not for a server's.

use super::transport::READ_CHUNK;
use bytes::BytesMut;
use std::collections::VecDeque;

/// The block a busy connection reads into: four reads of [`READ_CHUNK`] after the partial
/// frame carried over from the previous block (one 16 KiB frame and its header at most). That
/// frame is copied, 1/8 of the bytes on average; a block stays under the size from which
/// allocators map memory afresh for each allocation (128 KiB).
pub const READ_BLOCK: usize = 5 * READ_CHUNK + 1024;

/// The most filled blocks kept for reuse (16 blocks, about 1.3 MiB, let go when the
/// connection is idle): an adapter's connection task reads up to 64 times in a row (1 MiB)
/// before the readers of the bodies it fills run, so the blocks of that much payload may still
/// be held when the next block is needed. Fewer left most blocks to fresh allocations, whose
/// memory the allocator had given back (the page faults this module exists to avoid).
const SPARES: usize = 16;

/// How an adapter makes room in its read buffer before each read (see the module doc).
///
/// Call [`ReadBlocks::reserve`] before a read, read at most [`READ_CHUNK`] bytes into the
/// buffer's spare capacity (e.g. through `BufMut::limit`), then [`ReadBlocks::read`] with what
/// came; [`ReadBlocks::drained`] when the socket has nothing more for now.
#[derive(Debug, Default)]
pub struct ReadBlocks {
    /// Filled blocks, oldest first; one serves again once nothing else points into it (the
    /// application dropped every payload cut from it).
    spares: VecDeque<BytesMut>,
    /// The buffer is a block (not a [`READ_CHUNK`] reservation), worth keeping once filled.
    block: bool,
    /// A read filled [`READ_CHUNK`] since the connection was last idle: the peer sends in
    /// bulk, so the next allocation is a block. A connection that receives little keeps
    /// reserving [`READ_CHUNK`] as before.
    busy: bool,
}

impl ReadBlocks {
    /// Blocks for a new connection: none yet.
    pub fn new() -> ReadBlocks {
        ReadBlocks::default()
    }

    /// Makes room for a read of [`READ_CHUNK`] bytes at the end of `buf`, keeping what `buf`
    /// holds (a partial frame, moved at most once per block).
    pub fn reserve(&mut self, buf: &mut BytesMut) {
        if buf.capacity() - buf.len() >= READ_CHUNK {
            return;
        }
        // Nothing else points into the block (every payload was dropped): the partial frame
        // moves to its front and the block serves again.
        if buf.try_reclaim(READ_CHUNK) {
            return;
        }
        if !self.busy {
            buf.reserve(READ_CHUNK);
            self.block = false;
            return;
        }
        let need = buf.len() + READ_CHUNK;
        let reclaimed = self.spares.iter_mut().position(|b| b.try_reclaim(need));
        let mut next = match reclaimed.and_then(|i| self.spares.remove(i)) {
            Some(block) => block,
            // A frame larger than a block doubles the room: copied O(1) times on average.
            None => BytesMut::with_capacity(READ_BLOCK.max(2 * buf.len() + READ_CHUNK)),
        };
        next.extend_from_slice(buf);
        buf.clear();
        let filled = std::mem::replace(buf, next);
        // The block just filled waits its turn: its payloads are still being read. Beyond
        // SPARES it is let go, freed with its last payload.
        if std::mem::replace(&mut self.block, true) && self.spares.len() < SPARES {
            self.spares.push_back(filled);
        }
    }

    /// A read of `n` bytes (`0`: end of input) went into the buffer.
    pub fn read(&mut self, n: usize) {
        self.busy |= n >= READ_CHUNK;
    }

    /// The socket has nothing to read now; `streams`: the connection has streams open. With no
    /// stream open and no partial frame pending the connection is idle: its blocks are let go
    /// and it reserves [`READ_CHUNK`] again, as much memory as before it was busy. (While
    /// streams are open the peer only paused: the blocks stay, or every pause of a download
    /// would cost fresh memory.)
    pub fn drained(&mut self, buf: &mut BytesMut, streams: bool) {
        if streams || !buf.is_empty() || !self.busy {
            return;
        }
        self.busy = false;
        self.spares = VecDeque::new();
        if std::mem::take(&mut self.block) {
            *buf = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, Bytes};

    /// Reads `n` bytes into `buf` the way an adapter does (at most READ_CHUNK into its spare
    /// capacity); returns where the buffer's bytes start if reserving moved them.
    fn read(blocks: &mut ReadBlocks, buf: &mut BytesMut, n: usize) -> Option<usize> {
        let before = buf.as_ptr() as usize;
        blocks.reserve(buf);
        assert!(buf.capacity() - buf.len() >= READ_CHUNK);
        let after = buf.as_ptr() as usize;
        let mut limited = buf.limit(READ_CHUNK);
        limited.put_bytes(7, n.min(READ_CHUNK));
        blocks.read(n.min(READ_CHUNK));
        (after != before).then_some(after)
    }

    /// Cuts whole 16,393-byte frames off the front of `buf`, as the frame reader does.
    fn frames(buf: &mut BytesMut, out: &mut Vec<Bytes>) {
        while buf.len() >= 16_393 {
            out.push(buf.split_to(16_393).freeze());
        }
    }

    #[test]
    fn a_busy_connection_reads_many_chunks_into_one_block() {
        let mut blocks = ReadBlocks::new();
        let mut buf = BytesMut::new();
        let mut held = Vec::new();
        let mut moves = 0;
        for _ in 0..64 {
            moves += read(&mut blocks, &mut buf, READ_CHUNK).is_some() as usize;
            frames(&mut buf, &mut held);
        }
        // Every payload is still held, so no block is reused: 1 MiB in 64 KiB blocks.
        assert!(moves <= 64 / 4 + 2, "the partial frame moved {moves} times");
    }

    #[test]
    fn the_spare_block_is_reused_once_its_payloads_are_dropped() {
        let mut blocks = ReadBlocks::new();
        let mut buf = BytesMut::new();
        let mut held = Vec::new();
        let mut starts = std::collections::HashSet::new();
        for _ in 0..256 {
            starts.extend(read(&mut blocks, &mut buf, READ_CHUNK));
            frames(&mut buf, &mut held);
            // The application reads promptly: only the newest payload is still alive.
            let keep = held.pop();
            held.clear();
            held.extend(keep);
        }
        // The first small buffer, then two blocks taking turns.
        assert!(
            starts.len() <= 3,
            "{} allocations for 256 reads",
            starts.len()
        );
    }

    #[test]
    fn a_quiet_connection_reserves_one_chunk_and_an_idle_one_lets_the_spare_go() {
        let mut blocks = ReadBlocks::new();
        let mut buf = BytesMut::new();
        read(&mut blocks, &mut buf, 100);
        assert!(buf.capacity() < 2 * READ_CHUNK);
        let mut held = Vec::new();
        for _ in 0..10 {
            read(&mut blocks, &mut buf, READ_CHUNK);
            frames(&mut buf, &mut held);
        }
        let _ = buf.split();
        blocks.drained(&mut buf, true);
        assert!(!blocks.spares.is_empty(), "kept while a stream is open");
        blocks.drained(&mut buf, false);
        assert!(blocks.spares.is_empty());
        assert_eq!(buf.capacity(), 0, "the block is let go too");
        read(&mut blocks, &mut buf, 100);
        assert!(
            buf.capacity() < 2 * READ_CHUNK,
            "then one chunk is reserved again"
        );
    }

    #[test]
    fn a_frame_larger_than_a_block_is_kept_whole() {
        let mut blocks = ReadBlocks::new();
        let mut buf = BytesMut::new();
        for i in 0..100 {
            read(&mut blocks, &mut buf, READ_CHUNK);
            assert_eq!(buf.len(), (i + 1) * READ_CHUNK);
        }
        assert!(buf.iter().all(|&b| b == 7));
    }
}
