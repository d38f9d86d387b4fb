//! The model's state and every call's answer: up to four maps (slots),
//! the objects behind them (the setup's file, named shared memory, the
//! file `open-tagged` is given), up to four windows, the host's budget
//! against the configured limits, and the change events `wait-for-change`
//! sees.
//!
//! Bytes live where the OS keeps them: an object's pages (a map or window
//! of it reads them through), a `copy` map's or private window's pages once
//! written (copy-on-write, per page), an anonymous map's own bytes. A page
//! past an object's end is gone (EFAULT through a call; a window's
//! truncation policy); the part of the last page past the end reads as
//! zeros once truncated, as memory does.

use super::{Answer, AtomicKind, LimitSpec, Mem, Op, Setup, WinOp, initial, os, v};
use super::{CLOSED, NO_RESIZE, READONLY};
use std::collections::BTreeMap;
use wasm_mmap::pyindex::{clamp, slice_positions};
use wasm_mmap::{Access, CreateMode, Whence};

/// The page size (and allocation granularity) the model assumes: Linux on
/// x86-64 and most arm64.
pub const PAGE: usize = 4096;
/// The decoder's maps and objects stay well under this (searches then copy
/// their range in one block); past twice this a length is a huge one
/// (i64::MAX), of which only the error class is predicted.
pub const CAP: usize = 1 << 16;
/// Map and window slots.
pub const SLOTS: usize = 4;

fn page_ceil(n: usize) -> usize {
    n.div_ceil(PAGE) * PAGE
}

/// What a map, window or object holds of the host's budget (the host's
/// `Footprint`, restated).
#[derive(Clone, Copy, Default)]
struct Foot {
    maps: u64,
    bytes: u64,
    memory: u64,
    mappings: u64,
    fds: u64,
    watches: u64,
    windows: u64,
}

/// A file or named shared memory object.
struct Object {
    /// Its pages: `page_ceil(size)` bytes.
    bytes: Vec<u8>,
    size: usize,
    /// A byte past `size` in the last page was written (through a map or a
    /// window reaching there): growing the object exposes it, and whether
    /// the kernel zeroes it then depends on the filesystem (tmpfs keeps
    /// it, ext4 zeroes it), so the model stops there.
    tail_dirty: bool,
    /// inotify events on it so far.
    events: u64,
}

impl Object {
    fn new(content: &[u8], size: usize) -> Object {
        let mut bytes = content.to_vec();
        bytes.resize(page_ceil(size), 0);
        Object {
            bytes,
            size,
            tail_dirty: false,
            events: 0,
        }
    }
}

/// An open file description (`struct file`): its last reference gone, a
/// read-write one is an IN_CLOSE_WRITE event.
struct Fh {
    obj: usize,
    rw: bool,
    refs: u32,
}

enum Store {
    /// Anonymous memory: its bytes, and those past `len` in its last page,
    /// which an mremap shrink keeps and a later grow shows again.
    Anon { data: Vec<u8>, hidden: Vec<u8> },
    /// A view of an object from `offset`; a `copy` map's written pages
    /// (by object page index) are its own.
    Obj {
        id: usize,
        fh: usize,
        cow: BTreeMap<usize, Vec<u8>>,
    },
}

/// A `wait-for-change` watch: the events it has seen (all of those before
/// it was armed, even where another watch on the inode had not read them
/// yet: the host drains the queue when it arms one).
struct Watch {
    seen: u64,
}

struct MapM {
    store: Store,
    len: usize,
    offset: usize,
    pos: usize,
    closed: bool,
    access: Access,
    watch: Option<Watch>,
    max_read: u64,
}

impl MapM {
    fn obj(&self) -> Option<usize> {
        match self.store {
            Store::Obj { id, .. } => Some(id),
            Store::Anon { .. } => None,
        }
    }
}

enum Page {
    /// The object's page (a private window's until written).
    File,
    /// A private window's written page.
    Own(Vec<u8>),
    /// Replaced by zeros after its page vanished (truncation policy zero).
    Zero(Vec<u8>),
}

struct WinM {
    obj: usize,
    /// The file description the window's mapping holds, until dropped or
    /// wholly replaced.
    fh: Option<usize>,
    /// Where the window starts in the object.
    base: usize,
    len: usize,
    offset: u64,
    shared: bool,
    pages: Vec<Page>,
    replaced: bool,
}

/// The model.
pub struct World {
    limits: LimitSpec,
    /// The host's default limits (half the RAM, ...), for those not set.
    defaults: wasm_mmap::Limits,
    zero: bool,
    objects: Vec<Object>,
    /// Name index → object, in the guest's namespace.
    names: [Option<usize>; 4],
    /// Named objects this guest created (name index, size): counted as
    /// memory until removed.
    created: Vec<(u8, u64)>,
    fhs: Vec<Fh>,
    maps: [Option<MapM>; SLOTS],
    cur: usize,
    wins: [Option<WinM>; SLOTS],
    /// The file `open-tagged` is given.
    tag_file: usize,
    /// A call's effect became unknowable: nothing after it is compared.
    pub lost: bool,
    /// The guest trapped (a window's vanished page, policy trap).
    pub trapped: bool,
    /// The setup's map could not be made: this error.
    pub open_error: Option<Answer>,
}

/// Python's error for a bad shared memory name (the host's rule: 1 to 200
/// bytes, no slash, backslash or NUL), restated.
pub fn name_error(name: &str) -> Option<Answer> {
    let bad = name.is_empty() || name.len() > 200 || name.contains(['/', '\\', '\0']);
    bad.then(|| {
        v(&format!(
            "invalid shared memory name {name:?}: 1 to 200 bytes, without '/', '\\' or NUL"
        ))
    })
}

/// The guest's name for name index `i` of sequence `seq`: 0 the sequence's
/// own (the setup's named map), 1 and 2 short ones, 3 one of 200 bytes (the
/// longest allowed), 4 and up invalid ones.
pub fn guest_name(seq: &str, i: u8) -> String {
    match i {
        0 => seq.to_string(),
        1 | 2 => format!("{seq}n{i}"),
        3 => format!("{seq}{}", "L".repeat(200 - seq.len())),
        4 => String::new(),
        5 => "L".repeat(201),
        6 => "a/b".into(),
        7 => "a\\b".into(),
        _ => "a\0b".into(),
    }
}

fn efault() -> Answer {
    os(14)
}

fn enomem() -> Answer {
    os(12)
}

fn index_error(m: &str) -> Answer {
    Answer::Err("IndexError", m.into())
}

fn access_name(a: Access) -> &'static str {
    match a {
        Access::Default => "ACCESS_DEFAULT",
        Access::Read => "ACCESS_READ",
        Access::Write => "ACCESS_WRITE",
        Access::Copy => "ACCESS_COPY",
    }
}

/// Python's slice: (first, step, count), from the reference.
fn slice(
    len: usize,
    a: Option<i64>,
    b: Option<i64>,
    c: Option<i64>,
) -> Option<(i128, i128, usize)> {
    let step = i128::from(c.unwrap_or(1));
    if step == 0 {
        return None;
    }
    let idx = slice_positions(len, a, b, c);
    let first = idx.first().map_or(0, |&i| i as i128);
    Some((first, step, idx.len()))
}

/// The answer a closed map (or an empty slot) gives `op`.
pub(super) fn closed_answer(op: &Op) -> Answer {
    match op {
        Op::Close => Answer::Unit,
        Op::Closed | Op::Seekable => Answer::Bool(true),
        Op::Repr => Answer::Text("<mmap.mmap closed=True>".into()),
        _ => v(CLOSED),
    }
}

impl World {
    /// The setup's map, made as the host makes it (its open can fail
    /// under the limits), holding [`initial`].
    pub fn new(setup: &Setup) -> World {
        let mut w = World {
            limits: setup.limits.clone(),
            defaults: wasm_mmap::Limits::default(),
            zero: setup.zero,
            objects: Vec::new(),
            names: [None; 4],
            created: Vec::new(),
            fhs: Vec::new(),
            maps: Default::default(),
            cur: 0,
            wins: Default::default(),
            tag_file: 0,
            lost: false,
            trapped: false,
            open_error: None,
        };
        let init = initial(setup);
        let len = setup.len;
        // Objects another context made first: seen only in a namespace
        // shared with it.
        for &(name, size, fill) in &setup.prelude {
            let id = w.objects.len();
            w.objects.push(Object::new(&vec![fill; size], size));
            if setup.same_ns && !setup.private_ns {
                w.names[usize::from(name)] = Some(id);
            }
        }
        let max_read = w.max_read();
        let map = |store| MapM {
            store,
            len,
            offset: 0,
            pos: 0,
            closed: false,
            access: setup.access,
            watch: None,
            max_read,
        };
        if setup.file {
            // The guest's descriptor of the file stays open (a reference).
            let id = w.objects.len();
            w.objects.push(Object::new(&init, len));
            w.tag_file = id;
            let fh = w.new_fh(id, true);
            match w.admit(new_map(len as u64, false), len as u64) {
                Ok(()) => {
                    w.fhs[fh].refs += 1;
                    w.maps[0] = Some(map(Store::Obj {
                        id,
                        fh,
                        cow: BTreeMap::new(),
                    }));
                }
                Err(e) => w.open_error = Some(e),
            }
            return w;
        }
        // Not a file map: the file open-tagged is given, made for it.
        w.tag_file = w.objects.len();
        w.objects.push(Object::new(&init, len));
        if setup.named {
            let object = Foot {
                memory: len as u64,
                ..Foot::default()
            };
            let made = w
                .admit(object, len as u64)
                .and_then(|()| w.admit(new_map(len as u64, false), len as u64));
            match made {
                Ok(()) => {
                    // The pattern is written through the map: a `copy`
                    // map's own pages get it, the object stays zero.
                    let id = w.objects.len();
                    let mut cow = BTreeMap::new();
                    if setup.access == Access::Copy {
                        w.objects.push(Object::new(&[], len));
                        for (p, chunk) in init.chunks(PAGE).enumerate() {
                            let mut page = chunk.to_vec();
                            page.resize(PAGE, 0);
                            cow.insert(p, page);
                        }
                    } else {
                        w.objects.push(Object::new(&init, len));
                    }
                    w.names[0] = Some(id);
                    w.created.push((0, len as u64));
                    let fh = w.new_fh(id, true);
                    w.maps[0] = Some(map(Store::Obj { id, fh, cow }));
                }
                Err(e) => w.open_error = Some(e),
            }
        } else {
            match w.admit(new_map(len as u64, true), len as u64) {
                Ok(()) => {
                    w.maps[0] = Some(map(Store::Anon {
                        data: init,
                        hidden: vec![0; page_ceil(len) - len],
                    }))
                }
                Err(e) => w.open_error = Some(e),
            }
        }
        w
    }

    /// The cursor of the current map (None: closed, or no map).
    pub fn pos(&self) -> Option<usize> {
        self.maps[self.cur]
            .as_ref()
            .filter(|m| !m.closed)
            .map(|m| m.pos)
    }

    /// The setup file's bytes and size (for the final check of the file).
    pub fn file(&self, setup: &Setup) -> Option<Vec<u8>> {
        setup.file.then(|| {
            let o = &self.objects[self.tag_file];
            o.bytes[..o.size].to_vec()
        })
    }

    fn new_fh(&mut self, obj: usize, rw: bool) -> usize {
        self.fhs.push(Fh { obj, rw, refs: 1 });
        self.fhs.len() - 1
    }

    fn release_fh(&mut self, fh: usize) {
        let f = &mut self.fhs[fh];
        f.refs -= 1;
        if f.refs == 0 && f.rw {
            self.objects[f.obj].events += 1;
        }
    }

    /// What the guest's maps, windows and created objects hold.
    fn used(&self) -> Foot {
        let mut u = Foot::default();
        for m in self.maps.iter().flatten().filter(|m| !m.closed) {
            u.maps += 1;
            u.bytes += m.len as u64;
            u.mappings += 1;
            match m.store {
                Store::Anon { .. } => u.memory += m.len as u64,
                Store::Obj { .. } => u.fds += 1,
            }
            u.watches += u64::from(m.watch.is_some());
        }
        for _ in self.wins.iter().flatten() {
            u.windows += 1;
            u.mappings += 3;
        }
        u.memory += self.created.iter().map(|c| c.1).sum::<u64>();
        u
    }

    /// The host's admission of a growth by `add` (a map of `map_len`
    /// bytes after it): ENOMEM over a limit.
    fn admit(&self, add: Foot, map_len: u64) -> Result<(), Answer> {
        let l = &self.limits;
        let d = &self.defaults;
        let lim = |x: Option<u64>, default: u64| {
            if l.unlimited {
                u64::MAX
            } else {
                x.unwrap_or(default)
            }
        };
        if map_len > lim(l.max_map_bytes, d.max_map_bytes) {
            return Err(enomem());
        }
        let u = self.used();
        if add.maps > 0 && u.maps + add.maps > lim(l.max_maps, d.max_maps as u64) {
            return Err(enomem());
        }
        let checks = [
            (
                u.bytes,
                add.bytes,
                lim(l.max_mapped_bytes, d.max_mapped_bytes),
            ),
            (
                u.memory,
                add.memory,
                lim(l.max_memory_bytes, d.max_memory_bytes),
            ),
            (
                u.mappings,
                add.mappings,
                lim(l.max_mappings, d.max_mappings),
            ),
            (u.fds, add.fds, lim(l.max_fds, d.max_fds)),
            (u.watches, add.watches, lim(l.max_watches, d.max_watches)),
            (u.windows, add.windows, lim(l.max_windows, d.max_windows)),
        ];
        for (used, more, limit) in checks {
            if more > 0 && used.saturating_add(more) > limit {
                return Err(enomem());
            }
        }
        Ok(())
    }

    /// Most bytes one call may copy out.
    fn max_read(&self) -> u64 {
        match self.limits.max_read_bytes {
            _ if self.limits.unlimited => u64::MAX,
            Some(n) => n,
            None => self.defaults.max_read_bytes,
        }
    }

    // --- bytes ---

    fn map(&self, s: usize) -> &MapM {
        self.maps[s].as_ref().unwrap()
    }

    fn map_mut(&mut self, s: usize) -> &mut MapM {
        self.maps[s].as_mut().unwrap()
    }

    /// Byte `i` of the map in slot `s`; None where its page is gone.
    fn byte(&self, s: usize, i: usize) -> Option<u8> {
        let m = self.map(s);
        match &m.store {
            Store::Anon { data, .. } => Some(data[i]),
            Store::Obj { id, cow, .. } => {
                let at = m.offset + i;
                match cow.get(&(at / PAGE)) {
                    Some(p) => Some(p[at % PAGE]),
                    None => self.objects[*id].bytes.get(at).copied(),
                }
            }
        }
    }

    /// Whether byte `i` of the map can be touched (a written private page
    /// is always one the object still has: truncation drops the others).
    fn present(&self, s: usize, i: usize) -> bool {
        let m = self.map(s);
        match &m.store {
            Store::Anon { .. } => true,
            Store::Obj { id, .. } => m.offset + i < self.objects[*id].bytes.len(),
        }
    }

    fn put(&mut self, s: usize, i: usize, b: u8) {
        let private = self.map(s).access == Access::Copy;
        let offset = self.map(s).offset;
        let World { maps, objects, .. } = self;
        match &mut maps[s].as_mut().unwrap().store {
            Store::Anon { data, .. } => data[i] = b,
            Store::Obj { id, cow, .. } => {
                let o = &mut objects[*id];
                let at = offset + i;
                if private {
                    let p = at / PAGE;
                    let page = cow
                        .entry(p)
                        .or_insert_with(|| o.bytes[p * PAGE..(p + 1) * PAGE].to_vec());
                    page[at % PAGE] = b;
                } else {
                    o.bytes[at] = b;
                    if at >= o.size {
                        o.tail_dirty = true;
                    }
                }
            }
        }
    }

    /// A futex call on byte `i`: the kernel pins the page for writing
    /// first (get_futex_key), so a `copy` map gets its own copy of it.
    fn futex_touch(&mut self, s: usize, i: usize) {
        if self.map(s).access == Access::Copy
            && let Some(b) = self.byte(s, i)
        {
            self.put(s, i, b);
        }
    }

    /// The map's bytes at `idx`, or EFAULT if any page is gone.
    fn read_idx(&self, s: usize, idx: impl IntoIterator<Item = usize>) -> Result<Vec<u8>, Answer> {
        idx.into_iter()
            .map(|i| self.byte(s, i).ok_or_else(efault))
            .collect()
    }

    /// `read_idx` over a range, a page at a time (the fuzzers' hot path).
    fn read(&self, s: usize, r: std::ops::Range<usize>) -> Result<Vec<u8>, Answer> {
        let m = self.map(s);
        match &m.store {
            Store::Anon { data, .. } => Ok(data[r].to_vec()),
            Store::Obj { id, cow, .. } => {
                let bytes = &self.objects[*id].bytes;
                let mut out = Vec::with_capacity(r.len());
                let mut i = r.start;
                while i < r.end {
                    let at = m.offset + i;
                    let (page, inner) = (at / PAGE, at % PAGE);
                    let n = (PAGE - inner).min(r.end - i);
                    match cow.get(&page) {
                        Some(p) => out.extend_from_slice(&p[inner..inner + n]),
                        None => out.extend_from_slice(bytes.get(at..at + n).ok_or_else(efault)?),
                    }
                    i += n;
                }
                Ok(out)
            }
        }
    }

    /// Writes `data` at `idx`. Where a page is gone: EFAULT with nothing
    /// written if no byte could be; else the host's copy stopped somewhere
    /// unknown (memmove's order is libc's), and the model is lost.
    fn write(&mut self, s: usize, idx: &[usize], data: &[u8]) -> Result<(), Answer> {
        let present = idx.iter().filter(|&&i| self.present(s, i)).count();
        if present < idx.len() {
            return Err(self.fault_after(present > 0));
        }
        for (&i, &b) in idx.iter().zip(data) {
            self.put(s, i, b);
        }
        Ok(())
    }

    /// A faulting write's answer: clean EFAULT, or lost if it may have
    /// written part.
    fn fault_after(&mut self, partial: bool) -> Answer {
        if partial {
            self.lost = true;
            Answer::Lost
        } else {
            efault()
        }
    }

    /// Sets an object's size, as ftruncate does: unless it grows, the pages
    /// past the end go (private copies of them too: the kernel unmaps even
    /// copy-on-write pages) and the rest of the last page is zeroed, also
    /// when the size stays (tmpfs and ext4 alike).
    fn set_size(&mut self, id: usize, n: usize) {
        let o = &mut self.objects[id];
        o.events += 1;
        if n <= o.size {
            let keep = page_ceil(n);
            o.bytes.truncate(keep);
            o.bytes[n..].fill(0);
            o.tail_dirty = false;
            for m in self.maps.iter_mut().flatten() {
                if let Store::Obj { id: i, cow, .. } = &mut m.store
                    && *i == id
                {
                    cow.retain(|p, _| p * PAGE < keep);
                }
            }
            for w in self.wins.iter_mut().flatten().filter(|w| w.obj == id) {
                for (k, page) in w.pages.iter_mut().enumerate() {
                    if matches!(page, Page::Own(_)) && w.base + k * PAGE >= keep {
                        *page = Page::File;
                    }
                }
            }
        } else if n > o.size {
            if o.tail_dirty {
                self.lost = true;
            }
            o.bytes.resize(page_ceil(n), 0);
            o.tail_dirty = false;
        }
        self.objects[id].size = n;
    }

    /// An msync of the object: writing its dirty last page back, a disk
    /// filesystem (ext4) zeroes that page past the end, in the page cache
    /// too, and tmpfs does not; so bytes written there are the
    /// filesystem's choice from here on, and the model stops.
    fn writeback(&mut self, id: Option<usize>) {
        if id.is_some_and(|id| self.objects[id].tail_dirty) {
            self.lost = true;
        }
    }

    fn close_map(&mut self, s: usize) {
        let Some(m) = self.maps[s].as_mut() else {
            return;
        };
        if m.closed {
            return;
        }
        m.closed = true;
        m.watch = None;
        if let Store::Obj { fh, .. } = m.store {
            self.release_fh(fh);
        }
    }

    fn drop_map(&mut self, s: usize) {
        self.close_map(s);
        self.maps[s] = None;
    }

    fn drop_window(&mut self, w: usize) {
        if let Some(win) = self.wins[w].take()
            && let Some(fh) = win.fh
        {
            self.release_fh(fh);
        }
    }

    // --- calls ---

    /// One call's answer (also `Lost` once the model cannot follow, and
    /// `Trap` where the guest dies).
    pub fn apply(&mut self, op: &Op) -> Answer {
        if self.lost {
            return Answer::Lost;
        }
        let a = self.call(op);
        if self.lost { Answer::Lost } else { a }
    }

    fn call(&mut self, op: &Op) -> Answer {
        match op {
            Op::Use(k) => {
                self.cur = usize::from(*k);
                Answer::Unit
            }
            Op::Drop(k) => {
                self.drop_map(usize::from(*k));
                Answer::Unit
            }
            Op::OpenNamed {
                slot,
                name,
                len,
                mode,
                access,
                offset,
            } => self.open_named(usize::from(*slot), *name, *len, *mode, *access, *offset),
            Op::OpenTagged {
                slot: _,
                name,
                len,
                access: _,
                offset,
            } => self.open_tagged(*name, *len, *offset),
            Op::RemoveNamed(i) => self.remove_named(*i),
            Op::PageSize | Op::Granularity => Answer::Int(PAGE as i64),
            Op::Place {
                win,
                slot,
                mem,
                offset,
            } => self.place(usize::from(*win), usize::from(*slot), *mem, *offset),
            Op::Win(w, wop) => self.window_call(usize::from(*w), wop),
            _ => self.map_call(op),
        }
    }

    fn open_named(
        &mut self,
        slot: usize,
        name: u8,
        len: i64,
        mode: CreateMode,
        access: Access,
        offset: i64,
    ) -> Answer {
        let (len, offset) = match name_and_signs(name, len, offset) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if !offset.is_multiple_of(PAGE as u64) || (mode == CreateMode::CreateNew && len == 0) {
            return os(22);
        }
        let create = mode == CreateMode::CreateNew || (mode == CreateMode::CreateOrOpen && len > 0);
        let Some(end) = offset.checked_add(len).filter(|&e| e <= i64::MAX as u64) else {
            return os(22);
        };
        if create {
            let object = Foot {
                memory: end,
                ..Foot::default()
            };
            if let Err(e) = self.admit(object, end) {
                return e;
            }
        }
        let bound = self.names[usize::from(name)];
        let (id, created) = match (bound, create) {
            (None, true) if end > 2 * CAP as u64 => {
                // A huge object: the OS's answer (or the default limits').
                return Answer::Err("OSError", "*".into());
            }
            (None, true) => {
                let id = self.objects.len();
                self.objects.push(Object::new(&[], end as usize));
                self.names[usize::from(name)] = Some(id);
                (id, true)
            }
            (Some(_), true) if mode == CreateMode::CreateNew => return os(17),
            (Some(id), _) => (id, false),
            (None, false) if mode == CreateMode::CreateOrOpen => return os(22),
            (None, false) => return os(2),
        };
        // The descriptor is read-write unless the map is read-only (a new
        // object's always is): closing it is an event.
        let fh = self.new_fh(id, created || access != Access::Read);
        let size = self.objects[id].size as u64;
        let map_len = if len == 0 {
            if size == 0 {
                Err(v("cannot mmap an empty file"))
            } else if offset >= size {
                Err(v("mmap offset is greater than file size"))
            } else {
                Ok(size - offset)
            }
        } else if end > size {
            Err(os(13))
        } else {
            Ok(len)
        };
        let made = map_len.and_then(|l| self.admit(new_map(l, false), l).map(|()| l as usize));
        let map_len = match made {
            Ok(l) => l,
            Err(e) => {
                self.release_fh(fh);
                if created {
                    self.names[usize::from(name)] = None;
                }
                return e;
            }
        };
        if created {
            self.created.push((name, end));
        }
        let m = MapM {
            store: Store::Obj {
                id,
                fh,
                cow: BTreeMap::new(),
            },
            len: map_len,
            offset: offset as usize,
            pos: 0,
            closed: false,
            access,
            watch: None,
            max_read: self.max_read(),
        };
        let old = self.maps[slot].replace(m);
        if let Some(mut old) = old
            && !old.closed
        {
            old.closed = true;
            if let Store::Obj { fh, .. } = old.store {
                self.release_fh(fh);
            }
        }
        Answer::Unit
    }

    fn open_tagged(&mut self, name: u8, len: i64, offset: i64) -> Answer {
        let (len, offset) = match name_and_signs(name, len, offset) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let size = self.objects[self.tag_file].size as u64;
        let map_len = if len == 0 {
            if size == 0 {
                return v("cannot mmap an empty file");
            }
            if offset >= size {
                return v("mmap offset is greater than file size");
            }
            size - offset
        } else {
            if offset > size || size - offset < len {
                return v("mmap length is greater than file size");
            }
            len
        };
        if !offset.is_multiple_of(PAGE as u64) {
            return os(22);
        }
        if let Err(e) = self.admit(new_map(map_len, false), map_len) {
            return e;
        }
        // Unix has no named file mappings.
        os(95)
    }

    fn remove_named(&mut self, name: u8) -> Answer {
        if name >= 4 {
            return name_error(&guest_name("", name)).unwrap();
        }
        let Some(id) = self.names[usize::from(name)].take() else {
            return os(2);
        };
        // Unlinking changes the link count: IN_ATTRIB.
        self.objects[id].events += 1;
        if let Some(i) = self.created.iter().position(|c| c.0 == name) {
            self.created.remove(i);
        }
        Answer::Unit
    }

    fn place(&mut self, w: usize, s: usize, mem: Mem, offset: u64) -> Answer {
        let (mlen, aligned, over) = match mem {
            Mem::Aligned(n) => (n as usize, true, false),
            Mem::Misaligned(n) => (n as usize, false, false),
            Mem::Over(j) => match &self.wins[usize::from(j)] {
                Some(win) => (win.len, true, true),
                None => (PAGE, true, false),
            },
        };
        let Some(m) = self.maps[s].as_ref().filter(|m| !m.closed) else {
            return v(CLOSED);
        };
        if mlen == 0 || !aligned || !mlen.is_multiple_of(PAGE) {
            return v(
                "window memory must be non-empty, its address and length multiples of \
                 allocation-granularity()",
            );
        }
        let Store::Obj { id, fh, .. } = m.store else {
            return os(95);
        };
        if !offset.is_multiple_of(PAGE as u64) {
            return v("window offset must be a multiple of allocation-granularity()");
        }
        let end = page_ceil(m.len) as u64;
        if offset.checked_add(mlen as u64).is_none_or(|e| e > end) {
            return v("window range past the end of the map");
        }
        let add = Foot {
            windows: 1,
            mappings: 3,
            ..Foot::default()
        };
        if let Err(e) = self.admit(add, 0) {
            return e;
        }
        if over {
            return v("window memory overlaps another window");
        }
        let win = WinM {
            obj: id,
            fh: Some(fh),
            base: m.offset + offset as usize,
            len: mlen,
            offset,
            shared: matches!(m.access, Access::Default | Access::Write),
            pages: (0..mlen / PAGE).map(|_| Page::File).collect(),
            replaced: false,
        };
        self.fhs[fh].refs += 1;
        self.drop_window(w);
        self.wins[w] = Some(win);
        Answer::Unit
    }

    fn window_call(&mut self, w: usize, op: &WinOp) -> Answer {
        let Some(win) = &self.wins[w] else {
            return match op {
                WinOp::Drop => Answer::Unit,
                _ => v("no window in that slot"),
            };
        };
        let len = win.len as u64;
        match op {
            WinOp::Address => Answer::Bool(true),
            WinOp::Len => Answer::Int(win.len as i64),
            WinOp::Offset => Answer::Int(win.offset as i64),
            WinOp::Replaced => Answer::Bool(win.replaced),
            WinOp::Flush(start, size) => {
                if start.checked_add(*size).is_none_or(|e| e > len) {
                    v("flush values out of range")
                } else if !start.is_multiple_of(PAGE as u64) {
                    os(22)
                } else {
                    if win.shared {
                        let id = win.obj;
                        self.writeback(Some(id));
                    }
                    Answer::Unit
                }
            }
            WinOp::Read(off, n) => {
                if off.checked_add(*n).is_none_or(|e| e > len) {
                    return v("window index out of range");
                }
                let mut out = Vec::new();
                for i in *off as usize..(*off + *n) as usize {
                    match self.win_byte(w, i, None) {
                        Ok(b) => out.push(b),
                        Err(e) => return e,
                    }
                }
                Answer::Bytes(out)
            }
            WinOp::Write(off, data) => {
                if off.checked_add(data.len() as u64).is_none_or(|e| e > len) {
                    return v("window index out of range");
                }
                for (k, &b) in data.iter().enumerate() {
                    if let Err(e) = self.win_byte(w, *off as usize + k, Some(b)) {
                        return e;
                    }
                }
                Answer::Unit
            }
            WinOp::Drop => {
                self.drop_window(w);
                Answer::Unit
            }
        }
    }

    /// A load (`store` None) or store of byte `i` of window `w`, as the
    /// guest's plain memory access: a page of the object that is gone
    /// traps the guest, or (policy zero) is replaced with the rest of the
    /// window by zeros.
    fn win_byte(&mut self, w: usize, i: usize, store: Option<u8>) -> Result<u8, Answer> {
        let k = i / PAGE;
        let win = self.wins[w].as_ref().unwrap();
        let at = win.base + i;
        if matches!(win.pages[k], Page::File) && at >= self.objects[win.obj].bytes.len() {
            if !self.zero {
                self.trapped = true;
                return Err(Answer::Trap);
            }
            let win = self.wins[w].as_mut().unwrap();
            for p in &mut win.pages[k..] {
                *p = Page::Zero(vec![0; PAGE]);
            }
            win.replaced = true;
            // Wholly replaced: the file's mapping, and its reference, are gone.
            if k == 0
                && let Some(fh) = win.fh.take()
            {
                self.release_fh(fh);
            }
        }
        let World { wins, objects, .. } = self;
        let win = wins[w].as_mut().unwrap();
        let o = &mut objects[win.obj];
        let page = &mut win.pages[k];
        if let (Page::File, Some(_), false) = (&page, store, win.shared) {
            *page = Page::Own(o.bytes[at - i % PAGE..at - i % PAGE + PAGE].to_vec());
        }
        Ok(match (page, store) {
            (Page::Own(b) | Page::Zero(b), None) => b[i % PAGE],
            (Page::Own(b) | Page::Zero(b), Some(x)) => {
                b[i % PAGE] = x;
                x
            }
            (Page::File, None) => o.bytes[at],
            (Page::File, Some(x)) => {
                o.bytes[at] = x;
                if at >= o.size {
                    o.tail_dirty = true;
                }
                x
            }
        })
    }

    fn map_call(&mut self, op: &Op) -> Answer {
        let s = self.cur;
        let Some(m) = self.maps[s].as_ref() else {
            return closed_answer(op);
        };
        match op {
            Op::Close => {
                self.close_map(s);
                return Answer::Unit;
            }
            Op::Closed => return Answer::Bool(m.closed),
            Op::Seekable => return Answer::Bool(true),
            _ if m.closed => return closed_answer(op),
            _ => {}
        }
        let len = m.len;
        let pos = m.pos;
        let writes = matches!(
            op,
            Op::Write(_)
                | Op::WriteByte(_)
                | Op::Move(..)
                | Op::Set(..)
                | Op::SetSlice(..)
                | Op::WriteAt(..)
                | Op::Atomic(AtomicKind::Store | AtomicKind::Cas | AtomicKind::Add, ..)
        );
        if writes && m.access == Access::Read {
            return Answer::Err("TypeError", READONLY.into());
        }
        let max_read = m.max_read;
        let check_read = |n: usize| {
            if n as u64 > max_read {
                Err(enomem())
            } else {
                Ok(())
            }
        };
        match op {
            Op::Read(n) => {
                let rem = len.saturating_sub(pos);
                let n = match n {
                    Some(k) if *k >= 0 => rem.min(*k as usize),
                    _ => rem,
                };
                if n == 0 {
                    return Answer::Bytes(vec![]);
                }
                if let Err(e) = check_read(n) {
                    return e;
                }
                match self.read(s, pos..pos + n) {
                    Ok(b) => {
                        self.map_mut(s).pos += n;
                        Answer::Bytes(b)
                    }
                    Err(e) => e,
                }
            }
            Op::ReadByte => {
                if pos >= len {
                    return v("read byte out of range");
                }
                match self.byte(s, pos) {
                    Some(b) => {
                        self.map_mut(s).pos += 1;
                        Answer::Int(i64::from(b))
                    }
                    None => efault(),
                }
            }
            Op::Readline => {
                if pos >= len {
                    return Answer::Bytes(vec![]);
                }
                // The search copies [pos, len) out first (one block here).
                let rest = match self.read(s, pos..len) {
                    Ok(b) => b,
                    Err(e) => return e,
                };
                let n = rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len - pos, |i| i + 1);
                if let Err(e) = check_read(n) {
                    return e;
                }
                self.map_mut(s).pos += n;
                Answer::Bytes(rest[..n].to_vec())
            }
            Op::Write(d) => {
                if pos > len || len - pos < d.len() {
                    return v("data out of range");
                }
                let idx: Vec<usize> = (pos..pos + d.len()).collect();
                match self.write(s, &idx, d) {
                    Ok(()) => {
                        self.map_mut(s).pos += d.len();
                        Answer::Int(d.len() as i64)
                    }
                    Err(e) => e,
                }
            }
            Op::WriteByte(b) => {
                if pos >= len {
                    return v("write byte out of range");
                }
                match self.write(s, &[pos], &[*b]) {
                    Ok(()) => {
                        self.map_mut(s).pos += 1;
                        Answer::Unit
                    }
                    Err(e) => e,
                }
            }
            Op::Seek(p, w) => {
                let base = match w {
                    Whence::Set => 0,
                    Whence::Cur => pos as i128,
                    Whence::End => len as i128,
                };
                let t = base + i128::from(*p);
                if t < 0 || t > len as i128 {
                    return v("seek out of range");
                }
                self.map_mut(s).pos = t as usize;
                Answer::Int(t as i64)
            }
            Op::Tell => Answer::Int(pos as i64),
            Op::Len => Answer::Int(len as i64),
            Op::Size => match m.obj() {
                Some(id) => Answer::Int(self.objects[id].size as i64),
                None => os(9),
            },
            Op::Find(sub, a, b, rev) => {
                let st = a.map_or(pos.min(len), |x| clamp(x, len));
                let e = b.map_or(len, |x| clamp(x, len));
                if st > e {
                    return Answer::Int(-1);
                }
                if sub.is_empty() {
                    return Answer::Int((if *rev { e } else { st }) as i64);
                }
                if e - st < sub.len() {
                    return Answer::Int(-1);
                }
                let hay = match self.read(s, st..e) {
                    Ok(b) => b,
                    Err(e) => return e,
                };
                let found = if *rev {
                    hay.windows(sub.len()).rposition(|w| w == &sub[..])
                } else {
                    hay.windows(sub.len()).position(|w| w == &sub[..])
                };
                Answer::Int(found.map_or(-1, |i| (st + i) as i64))
            }
            Op::Move(d, src, c) => {
                let l = len as i64;
                if *d < 0 || *src < 0 || *c < 0 || l - d < *c || l - src < *c {
                    return v("source, destination, or count out of range");
                }
                let (d, src, c) = (*d as usize, *src as usize, *c as usize);
                if c == 0 || d == src {
                    // The host touches no byte: no fault, no copied page.
                    return Answer::Unit;
                }
                let dest: Vec<usize> = (d..d + c).collect();
                match self.read(s, src..src + c) {
                    Ok(bytes) => match self.write(s, &dest, &bytes) {
                        Ok(()) => Answer::Unit,
                        Err(e) => e,
                    },
                    Err(_) => {
                        let any = dest.iter().any(|&i| self.present(s, i));
                        self.fault_after(any)
                    }
                }
            }
            Op::Resize(n) => self.resize(s, *n),
            Op::Get(i) | Op::Set(i, _) => {
                let l = len as i128;
                let mut k = i128::from(*i);
                if k < 0 {
                    k += l;
                }
                if k < 0 || k >= l {
                    return index_error("mmap index out of range");
                }
                let k = k as usize;
                match op {
                    Op::Set(_, b) => match self.write(s, &[k], &[*b]) {
                        Ok(()) => Answer::Unit,
                        Err(e) => e,
                    },
                    _ => match self.byte(s, k) {
                        Some(b) => Answer::Int(i64::from(b)),
                        None => efault(),
                    },
                }
            }
            Op::GetSlice(a, b, c) | Op::SetSlice(a, b, c, _) => {
                let Some((first, step, count)) = slice(len, *a, *b, *c) else {
                    return v("slice step cannot be zero");
                };
                if let Op::SetSlice(.., d) = op
                    && d.len() != count
                {
                    return index_error("mmap slice assignment is wrong size");
                }
                if count == 0 {
                    return match op {
                        Op::SetSlice(..) => Answer::Unit,
                        _ => Answer::Bytes(vec![]),
                    };
                }
                let idx: Vec<usize> = (0..count)
                    .map(|k| (first + step * k as i128) as usize)
                    .collect();
                match op {
                    Op::SetSlice(.., d) => match self.write(s, &idx, d) {
                        Ok(()) => Answer::Unit,
                        Err(e) => e,
                    },
                    _ => {
                        if let Err(e) = check_read(count) {
                            return e;
                        }
                        match self.read_idx(s, idx) {
                            Ok(b) => Answer::Bytes(b),
                            Err(e) => e,
                        }
                    }
                }
            }
            Op::Flush(o, sz) => {
                let l = len as i64;
                let (o, sz) = (o.unwrap_or(0), sz.unwrap_or(l));
                if sz < 0 || o < 0 || l - o < sz {
                    return v("flush values out of range");
                }
                if matches!(m.access, Access::Read | Access::Copy) {
                    Answer::Unit
                } else if o % PAGE as i64 == 0 {
                    let id = m.obj();
                    self.writeback(id);
                    Answer::Unit
                } else {
                    os(22)
                }
            }
            Op::ReadAt(offset, n) => {
                let start = usize::try_from(*offset).unwrap_or(usize::MAX).min(len);
                let n = usize::try_from(*n).unwrap_or(usize::MAX).min(len - start);
                if n == 0 {
                    return Answer::Bytes(vec![]);
                }
                if let Err(e) = check_read(n) {
                    return e;
                }
                match self.read(s, start..start + n) {
                    Ok(b) => Answer::Bytes(b),
                    Err(e) => e,
                }
            }
            Op::WriteAt(offset, d) => {
                if *offset > len as u64 || len as u64 - offset < d.len() as u64 {
                    return v("data out of range");
                }
                let o = *offset as usize;
                let idx: Vec<usize> = (o..o + d.len()).collect();
                match self.write(s, &idx, d) {
                    Ok(()) => Answer::Int(d.len() as i64),
                    Err(e) => e,
                }
            }
            Op::Atomic(kind, offset, size, a, b) => {
                let o = match word(len, *offset, u64::from(*size)) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let size = usize::from(*size);
                let Ok(bytes) = self.read(s, o..o + size) else {
                    return efault();
                };
                let mask = if size == 4 {
                    u64::from(u32::MAX)
                } else {
                    u64::MAX
                };
                let mut w = [0u8; 8];
                w[..size].copy_from_slice(&bytes);
                let old = u64::from_le_bytes(w);
                let (a, b) = (a & mask, b & mask);
                // A compare-exchange writes even when it fails (x86's
                // `lock cmpxchg` stores the old value back): a `copy` map
                // gets its own page either way.
                let new = match kind {
                    AtomicKind::Load => None,
                    AtomicKind::Store => Some(a),
                    AtomicKind::Cas => Some(if old == a { b } else { old }),
                    AtomicKind::Add => Some(old.wrapping_add(a) & mask),
                };
                if let Some(n) = new {
                    let idx: Vec<usize> = (o..o + size).collect();
                    if let Err(e) = self.write(s, &idx, &n.to_le_bytes()[..size]) {
                        return e;
                    }
                }
                match kind {
                    AtomicKind::Store => Answer::Unit,
                    _ => Answer::Int(old as i64),
                }
            }
            Op::Madvise(_, start, length) => {
                let l = len as i64;
                let start = start.unwrap_or(0);
                if start < 0 || start >= l {
                    return v("madvise start out of bounds");
                }
                let length = length.unwrap_or(l - start);
                if length < 0 {
                    return v("madvise length invalid");
                }
                if i64::MAX - start < length {
                    return Answer::Err("OverflowError", "madvise length too large".into());
                }
                // madvise(2) wants a page-aligned start, as CPython passes it.
                if start % PAGE as i64 != 0 {
                    return os(22);
                }
                Answer::Unit
            }
            Op::Wait32(offset, expected, _) => {
                let o = match word(len, *offset, 4) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let Ok(b) = self.read(s, o..o + 4) else {
                    return Answer::Err("OSError", "*".into());
                };
                self.futex_touch(s, o);
                let now = u32::from_le_bytes(b.try_into().unwrap());
                // 0: woken (spuriously), 1: mismatch, 2: timed out.
                Answer::Int(if now == *expected { 2 } else { 1 })
            }
            Op::Notify(offset, _) => match word(len, *offset, 4) {
                // A shared futex on a vanished page: the kernel's EFAULT.
                Ok(o) if !self.present(s, o) => efault(),
                Ok(o) => {
                    self.futex_touch(s, o);
                    Answer::Int(0)
                }
                Err(e) => e,
            },
            Op::WaitForChange(_) => self.wait_for_change(s),
            Op::Repr => Answer::Text(format!(
                "<mmap.mmap closed=False, access={}, length={len}, pos={pos}, offset={}>",
                access_name(m.access),
                m.offset
            )),
            _ => unreachable!("{op:?}"),
        }
    }

    fn resize(&mut self, s: usize, n: i64) -> Answer {
        let m = self.map(s);
        if matches!(m.access, Access::Read | Access::Copy) {
            return Answer::Err("TypeError", NO_RESIZE.into());
        }
        if n < 0
            || (n as u64)
                .checked_add(m.offset as u64)
                .is_none_or(|e| e > i64::MAX as u64)
        {
            return v("new size out of range");
        }
        let n = n as u64;
        let grow = n.saturating_sub(m.len as u64);
        let anonymous = m.obj().is_none();
        let add = Foot {
            bytes: grow,
            memory: if anonymous { grow } else { 0 },
            ..Foot::default()
        };
        if let Err(e) = self.admit(add, n) {
            return e;
        }
        if let Some(id) = m.obj() {
            let end = m.offset + n as usize;
            if end > 2 * CAP {
                // The OS may make the object that large (tmpfs does) or not.
                self.lost = true;
                return Answer::Lost;
            }
            self.set_size(id, end);
        }
        if n == 0 {
            return os(22);
        }
        let n = n as usize;
        if n > 2 * CAP {
            // Anonymous memory of i64::MAX bytes: mremap's ENOMEM.
            return Answer::Err("OSError", "*".into());
        }
        let m = self.map_mut(s);
        m.len = n;
        if let Store::Anon { data, hidden } = &mut m.store {
            let mut full = std::mem::take(data);
            full.append(hidden);
            full.resize(page_ceil(n), 0);
            *hidden = full.split_off(n);
            *data = full;
        }
        Answer::Unit
    }

    fn wait_for_change(&mut self, s: usize) -> Answer {
        let Some(id) = self.map(s).obj() else {
            return os(9);
        };
        if self.map(s).watch.is_none() {
            let add = Foot {
                watches: 1,
                ..Foot::default()
            };
            if let Err(e) = self.admit(add, self.map(s).len as u64) {
                return e;
            }
            self.map_mut(s).watch = Some(Watch {
                seen: self.objects[id].events,
            });
            return Answer::Bool(true);
        }
        let events = self.objects[id].events;
        let w = self.map_mut(s).watch.as_mut().unwrap();
        let answer = Answer::Bool(events != w.seen);
        w.seen = events;
        answer
    }
}

/// The checks `open-named` and `open-tagged` make first, in the host's
/// order: the name (decoder index 4+ is an invalid one), then the signs.
fn name_and_signs(name: u8, len: i64, offset: i64) -> Result<(u64, u64), Answer> {
    if name >= 4 {
        return Err(name_error(&guest_name("", name)).unwrap());
    }
    let positive = |what: &str| {
        Answer::Err(
            "OverflowError",
            format!("memory mapped {what} must be positive"),
        )
    };
    if len < 0 {
        return Err(positive("length"));
    }
    if offset < 0 {
        return Err(positive("offset"));
    }
    Ok((len as u64, offset as u64))
}

/// A new map of `len` bytes: anonymous memory counts as memory, a file or
/// named map keeps a descriptor.
fn new_map(len: u64, anonymous: bool) -> Foot {
    Foot {
        maps: 1,
        bytes: len,
        memory: if anonymous { len } else { 0 },
        mappings: 1,
        fds: u64::from(!anonymous),
        ..Foot::default()
    }
}

/// The aligned word at `offset` of a map of `len` bytes, or the error the
/// host gives.
fn word(len: usize, offset: u64, size: u64) -> Result<usize, Answer> {
    if !offset.is_multiple_of(size) {
        return Err(v(&format!("atomic offset must be a multiple of {size}")));
    }
    match offset.checked_add(size) {
        Some(end) if end <= len as u64 => Ok(offset as usize),
        _ => Err(index_error("atomic offset out of range")),
    }
}
