//! A single-producer single-consumer byte channel over a shared map, for
//! two processes (or two guests) mapping the same file or named memory.
//!
//! Layout: a 64-byte header, then the ring. Header words:
//! `0` magic, `4` ring capacity, `8` head (u64, bytes ever written),
//! `16` tail (u64, bytes ever read), `24` data sequence (u32, bumped and
//! notified after each write: the receiver waits on it), `28` space
//! sequence (u32, bumped and notified after each read: the sender waits on
//! it). Waits re-check after loading the sequence, so no wake-up is lost.
//!
//! Where the host allows it, both ends place a [`Window`] over the map, so
//! the ring's bytes move with plain memory copies instead of host calls.
//! The header's counters stay host calls: they are real atomics on the
//! file's page (wasm32-wasip2 code has none), whose ordering publishes the
//! ring bytes written before them on every CPU; so do waits and wake-ups
//! (a shared futex on the page). Without windows (`--no-windows`, a host
//! OS without them) the bytes are calls too, with the same layout: both
//! kinds of ends interoperate.

use crate::ErrorCode;
use crate::error::{Error, Result};
use crate::mmap::Mmap;
use crate::window::Window;
use std::io;
use std::time::Duration;

const MAGIC: u32 = 0x4843_4d57; // "WMCH"
const HEADER: u64 = 64;
const HEAD: u64 = 8;
const TAIL: u64 = 16;
const DATA_SEQ: u64 = 24;
const SPACE_SEQ: u64 = 28;
/// How long one wait blocks before re-checking (the host caps waits anyway).
const NAP: Duration = Duration::from_secs(1);

fn capacity(m: &Mmap) -> Result<u64> {
    Ok(m.len()? - HEADER)
}

/// Lays a fresh, empty channel over the whole of `m` (at least 65 bytes,
/// shared and writable): the ring is what is left after the header.
pub fn channel_create(m: Mmap) -> Result<Sender> {
    let cap = capacity(&m)?;
    m.store64(HEAD, 0)?;
    m.store64(TAIL, 0)?;
    m.store32(DATA_SEQ, 0)?;
    m.store32(SPACE_SEQ, 0)?;
    m.store32(4, u32::try_from(cap).unwrap_or(u32::MAX))?;
    m.store32(0, MAGIC)?;
    Ok(Sender {
        m: Shared::new(m),
        cap,
    })
}

/// Opens the receiving end of a channel another process created in `m`
/// (waits up to 10 s for it to appear).
pub fn channel_open(m: Mmap) -> Result<Receiver> {
    for _ in 0..1000 {
        if m.load32(0)? == MAGIC {
            let cap = capacity(&m)?;
            return Ok(Receiver {
                m: Shared::new(m),
                cap,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(Error(ErrorCode::ValueError(
        "no channel in this map".into(),
    )))
}

/// The sending end.
pub struct Sender {
    m: Shared,
    cap: u64,
}

/// The receiving end.
pub struct Receiver {
    m: Shared,
    cap: u64,
}

/// The channel's map, and a window over it when the host gives one.
struct Shared {
    // Declared first: dropped (and unmapped) before the map.
    w: Option<Window>,
    m: Mmap,
}

impl Shared {
    /// A window only over a writable map: a window of a read-only map is a
    /// private copy, whose stores the other end would never see (the calls
    /// then report the map's access error).
    fn new(m: Mmap) -> Shared {
        let writable = m.write_at(0, &[]).is_ok();
        let w = if writable {
            Window::whole(&m).ok()
        } else {
            None
        };
        Shared { w, m }
    }

    fn load32(&self, off: u64) -> Result<u32> {
        self.m.load32(off)
    }

    fn load64(&self, off: u64) -> Result<u64> {
        self.m.load64(off)
    }

    fn store64(&self, off: u64, v: u64) -> Result<()> {
        self.m.store64(off, v)
    }

    fn add32(&self, off: u64, v: u32) -> Result<u32> {
        self.m.add32(off, v)
    }

    fn write(&self, off: usize, data: &[u8]) -> Result<()> {
        match &self.w {
            Some(w) => w.write_from(off, data),
            None => self.m.set_slice(off..off + data.len(), data),
        }
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Result<()> {
        match &self.w {
            Some(w) => w.read_into(off, out),
            None => {
                out.copy_from_slice(&self.m.slice(off..off + out.len())?);
                Ok(())
            }
        }
    }
}

/// Copies `data` into the ring at stream position `at` (wrapping).
fn ring_write(m: &Shared, cap: u64, at: u64, data: &[u8]) -> Result<()> {
    let start = (at % cap) as usize;
    let first = data.len().min(cap as usize - start);
    let h = HEADER as usize;
    m.write(h + start, &data[..first])?;
    if first < data.len() {
        m.write(h, &data[first..])?;
    }
    Ok(())
}

/// Copies `n` bytes out of the ring from stream position `at` (wrapping).
fn ring_read(m: &Shared, cap: u64, at: u64, out: &mut [u8]) -> Result<()> {
    let start = (at % cap) as usize;
    let first = out.len().min(cap as usize - start);
    let h = HEADER as usize;
    m.read(h + start, &mut out[..first])?;
    if first < out.len() {
        m.read(h, &mut out[first..])?;
    }
    Ok(())
}

impl Sender {
    /// Writes some of `data` (at least one byte), waiting while the ring is
    /// full; how many bytes went in.
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        loop {
            let seq = self.m.load32(SPACE_SEQ)?;
            let head = self.m.load64(HEAD)?;
            let free = self.cap - (head - self.m.load64(TAIL)?);
            if free == 0 {
                self.m.m.wait32(SPACE_SEQ, seq, NAP)?;
                continue;
            }
            let n = data.len().min(free as usize);
            ring_write(&self.m, self.cap, head, &data[..n])?;
            self.m.store64(HEAD, head + n as u64)?;
            self.m.add32(DATA_SEQ, 1)?;
            self.m.m.notify(DATA_SEQ, 1)?;
            return Ok(n);
        }
    }

    /// Sends all of `data`.
    pub fn send_all(&self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let n = self.send(data)?;
            data = &data[n..];
        }
        Ok(())
    }
}

impl Receiver {
    /// Reads what is there (at least one byte, at most `buf.len()`),
    /// waiting while the ring is empty.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let seq = self.m.load32(DATA_SEQ)?;
            let tail = self.m.load64(TAIL)?;
            let avail = self.m.load64(HEAD)? - tail;
            if avail == 0 {
                self.m.m.wait32(DATA_SEQ, seq, NAP)?;
                continue;
            }
            let n = buf.len().min(avail as usize);
            ring_read(&self.m, self.cap, tail, &mut buf[..n])?;
            self.m.store64(TAIL, tail + n as u64)?;
            self.m.add32(SPACE_SEQ, 1)?;
            self.m.m.notify(SPACE_SEQ, 1)?;
            return Ok(n);
        }
    }

    /// Fills `buf` completely.
    pub fn recv_exact(&self, mut buf: &mut [u8]) -> Result<()> {
        while !buf.is_empty() {
            let n = self.recv(buf)?;
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

impl io::Write for Sender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.send(buf)?)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Read for Receiver {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.recv(buf)?)
    }
}
