//! The WIT interface implemented on [`MmapView`]: each function converts
//! the WIT's types to the map's own and delegates in one line.

use crate::bindings::wit::{self, ErrorCode, MapOptions, OsError};
use crate::ctx::MmapView;
use crate::error::{Error, MmapError};
use crate::map::{self, Mmap};
use crate::sys;
use wasmtime::component::Resource;
use wasmtime_wasi::filesystem::Descriptor;

impl From<MmapError> for ErrorCode {
    fn from(e: MmapError) -> Self {
        match e {
            MmapError::ValueError(m) => ErrorCode::ValueError(m),
            MmapError::IndexError(m) => ErrorCode::IndexError(m),
            MmapError::TypeError(m) => ErrorCode::TypeError(m),
            MmapError::OverflowError(m) => ErrorCode::OverflowError(m),
            MmapError::OsError { errno, message } => ErrorCode::OsError(OsError { errno, message }),
        }
    }
}

impl From<wit::Access> for map::Access {
    fn from(a: wit::Access) -> Self {
        match a {
            wit::Access::Default => map::Access::Default,
            wit::Access::Read => map::Access::Read,
            wit::Access::Write => map::Access::Write,
            wit::Access::Copy => map::Access::Copy,
        }
    }
}

impl From<MapOptions> for map::MapOptions {
    fn from(o: MapOptions) -> Self {
        let mut flags = map::MapFlags::empty();
        if o.flags.contains(wit::MapFlags::SHARED) {
            flags = flags | map::MapFlags::SHARED;
        }
        if o.flags.contains(wit::MapFlags::PRIVATE) {
            flags = flags | map::MapFlags::PRIVATE;
        }
        let mut prot = map::Prot::empty();
        if o.prot.contains(wit::Prot::READ) {
            prot = prot | map::Prot::READ;
        }
        if o.prot.contains(wit::Prot::WRITE) {
            prot = prot | map::Prot::WRITE;
        }
        map::MapOptions {
            flags,
            prot,
            access: o.access.into(),
            offset: o.offset,
        }
    }
}

impl From<wit::Whence> for map::Whence {
    fn from(w: wit::Whence) -> Self {
        match w {
            wit::Whence::Set => map::Whence::Set,
            wit::Whence::Cur => map::Whence::Cur,
            wit::Whence::End => map::Whence::End,
        }
    }
}

impl From<wit::CreateMode> for map::CreateMode {
    fn from(m: wit::CreateMode) -> Self {
        match m {
            wit::CreateMode::CreateOrOpen => map::CreateMode::CreateOrOpen,
            wit::CreateMode::CreateNew => map::CreateMode::CreateNew,
            wit::CreateMode::OpenExisting => map::CreateMode::OpenExisting,
        }
    }
}

impl From<wit::Advice> for map::Advice {
    fn from(a: wit::Advice) -> Self {
        use map::Advice as A;
        use wit::Advice as W;
        match a {
            W::Normal => A::Normal,
            W::Random => A::Random,
            W::Sequential => A::Sequential,
            W::WillNeed => A::WillNeed,
            W::DontNeed => A::DontNeed,
            W::Free => A::Free,
            W::DontFork => A::DontFork,
            W::DoFork => A::DoFork,
            W::Mergeable => A::Mergeable,
            W::Unmergeable => A::Unmergeable,
            W::Hugepage => A::Hugepage,
            W::NoHugepage => A::NoHugepage,
            W::DontDump => A::DontDump,
            W::DoDump => A::DoDump,
        }
    }
}

impl From<map::WaitResult> for wit::WaitResult {
    fn from(w: map::WaitResult) -> Self {
        match w {
            map::WaitResult::Woken => wit::WaitResult::Woken,
            map::WaitResult::Mismatch => wit::WaitResult::Mismatch,
            map::WaitResult::TimedOut => wit::WaitResult::TimedOut,
        }
    }
}

impl wit::Host for MmapView<'_> {
    fn convert_error_code(&mut self, err: Error) -> wasmtime::Result<ErrorCode> {
        match err {
            Error::Guest(e) => Ok(e.into()),
            Error::Trap(t) => Err(t),
        }
    }

    fn remove_named(&mut self, name: String) -> Result<(), Error> {
        let os_name = self.ctx.names.os_name(&name)?;
        sys::shm_unlink(&os_name)?;
        self.ctx.removed(&os_name);
        Ok(())
    }

    fn pagesize(&mut self) -> wasmtime::Result<u64> {
        Ok(sys::page_size() as u64)
    }

    fn allocation_granularity(&mut self) -> wasmtime::Result<u64> {
        Ok(sys::allocation_granularity() as u64)
    }
}

impl wit::HostMmap for MmapView<'_> {
    fn open(
        &mut self,
        file: Resource<Descriptor>,
        length: i64,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let file = self.file(&file)?;
        let map = Mmap::open_file(file, length, options.into(), &self.ctx.budget);
        self.insert(map)
    }

    fn open_named(
        &mut self,
        name: String,
        length: i64,
        mode: wit::CreateMode,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let os_name = self.ctx.names.os_name(&name)?;
        let (mode, options) = (mode.into(), options.into());
        let (map, created) = Mmap::open_named(&os_name, length, mode, options, &self.ctx.budget)?;
        if let Some(size) = created {
            self.ctx.created(os_name, size);
        }
        self.insert(Ok(map))
    }

    fn open_tagged(
        &mut self,
        file: Resource<Descriptor>,
        length: i64,
        tagname: String,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let tag = self.ctx.names.os_name(&tagname)?;
        let file = self.file(&file)?;
        let budget = &self.ctx.budget;
        let map = Mmap::open_file_tagged(file, length, options.into(), Some(&tag), budget);
        self.insert(map)
    }

    fn anonymous(&mut self, length: i64, options: MapOptions) -> Result<Resource<Mmap>, Error> {
        let map = Mmap::anonymous(length, options.into(), &self.ctx.budget);
        self.insert(map)
    }

    fn close(&mut self, m: Resource<Mmap>) -> wasmtime::Result<()> {
        match self.accounted(&m, |m, _| {
            m.close();
            Ok(())
        }) {
            Err(Error::Trap(t)) => Err(t),
            _ => Ok(()),
        }
    }

    fn closed(&mut self, m: Resource<Mmap>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&m)?.closed())
    }

    fn len(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.len()?)
    }

    fn size(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.size()?)
    }

    fn tell(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.tell()?)
    }

    fn seek(&mut self, m: Resource<Mmap>, pos: i64, whence: wit::Whence) -> Result<u64, Error> {
        Ok(self.map(&m)?.seek(pos, whence.into())?)
    }

    fn seekable(&mut self, _m: Resource<Mmap>) -> wasmtime::Result<bool> {
        Ok(true)
    }

    fn read(&mut self, m: Resource<Mmap>, n: Option<i64>) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.read(n)?)
    }

    fn read_at(&mut self, m: Resource<Mmap>, offset: u64, n: u64) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.read_at(offset, n)?)
    }

    fn write_at(&mut self, m: Resource<Mmap>, offset: u64, data: Vec<u8>) -> Result<u64, Error> {
        Ok(self.map(&m)?.write_at(offset, &data)?)
    }

    fn read_byte(&mut self, m: Resource<Mmap>) -> Result<u8, Error> {
        Ok(self.map(&m)?.read_byte()?)
    }

    fn readline(&mut self, m: Resource<Mmap>) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.readline()?)
    }

    fn write(&mut self, m: Resource<Mmap>, data: Vec<u8>) -> Result<u64, Error> {
        Ok(self.map(&m)?.write(&data)?)
    }

    fn write_byte(&mut self, m: Resource<Mmap>, value: u8) -> Result<(), Error> {
        Ok(self.map(&m)?.write_byte(value)?)
    }

    fn find(
        &mut self,
        m: Resource<Mmap>,
        sub: Vec<u8>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<i64, Error> {
        Ok(self.map(&m)?.find(&sub, start, end)?)
    }

    fn rfind(
        &mut self,
        m: Resource<Mmap>,
        sub: Vec<u8>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<i64, Error> {
        Ok(self.map(&m)?.rfind(&sub, start, end)?)
    }

    fn flush(
        &mut self,
        m: Resource<Mmap>,
        offset: Option<i64>,
        size: Option<i64>,
    ) -> Result<(), Error> {
        Ok(self.map(&m)?.flush(offset, size)?)
    }

    fn madvise(
        &mut self,
        m: Resource<Mmap>,
        option: wit::Advice,
        start: Option<i64>,
        length: Option<i64>,
    ) -> Result<(), Error> {
        self.accounted(&m, |m, budget| {
            m.madvise(option.into(), start, length, budget)
        })
    }

    fn move_(&mut self, m: Resource<Mmap>, dest: i64, src: i64, count: i64) -> Result<(), Error> {
        Ok(self.map(&m)?.move_(dest, src, count)?)
    }

    fn resize(&mut self, m: Resource<Mmap>, newsize: i64) -> Result<(), Error> {
        self.accounted(&m, |m, budget| m.resize(newsize, budget))
    }

    fn get(&mut self, m: Resource<Mmap>, index: i64) -> Result<u8, Error> {
        Ok(self.map(&m)?.get(index)?)
    }

    fn set(&mut self, m: Resource<Mmap>, index: i64, value: u8) -> Result<(), Error> {
        Ok(self.map(&m)?.set(index, value)?)
    }

    fn get_slice(
        &mut self,
        m: Resource<Mmap>,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    ) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.get_slice(start, stop, step)?)
    }

    fn set_slice(
        &mut self,
        m: Resource<Mmap>,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        Ok(self.map(&m)?.set_slice(start, stop, step, &data)?)
    }

    fn atomic_load32(&mut self, m: Resource<Mmap>, offset: u64) -> Result<u32, Error> {
        Ok(self.map(&m)?.atomic_load32(offset)?)
    }

    fn atomic_store32(&mut self, m: Resource<Mmap>, offset: u64, value: u32) -> Result<(), Error> {
        Ok(self.map(&m)?.atomic_store32(offset, value)?)
    }

    fn atomic_cas32(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u32,
        replacement: u32,
    ) -> Result<u32, Error> {
        Ok(self.map(&m)?.atomic_cas32(offset, expected, replacement)?)
    }

    fn atomic_add32(&mut self, m: Resource<Mmap>, offset: u64, delta: u32) -> Result<u32, Error> {
        Ok(self.map(&m)?.atomic_add32(offset, delta)?)
    }

    fn atomic_load64(&mut self, m: Resource<Mmap>, offset: u64) -> Result<u64, Error> {
        Ok(self.map(&m)?.atomic_load64(offset)?)
    }

    fn atomic_store64(&mut self, m: Resource<Mmap>, offset: u64, value: u64) -> Result<(), Error> {
        Ok(self.map(&m)?.atomic_store64(offset, value)?)
    }

    fn atomic_cas64(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u64,
        replacement: u64,
    ) -> Result<u64, Error> {
        Ok(self.map(&m)?.atomic_cas64(offset, expected, replacement)?)
    }

    fn atomic_add64(&mut self, m: Resource<Mmap>, offset: u64, delta: u64) -> Result<u64, Error> {
        Ok(self.map(&m)?.atomic_add64(offset, delta)?)
    }

    fn wait32(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u32,
        timeout_ns: u64,
    ) -> Result<wit::WaitResult, Error> {
        Ok(self.map(&m)?.wait32(offset, expected, timeout_ns)?.into())
    }

    fn notify(&mut self, m: Resource<Mmap>, offset: u64, count: u32) -> Result<u32, Error> {
        Ok(self.map(&m)?.notify(offset, count)?)
    }

    fn wait_for_change(&mut self, m: Resource<Mmap>, timeout_ns: u64) -> Result<bool, Error> {
        self.accounted(&m, |m, budget| m.wait_for_change(timeout_ns, budget))
    }

    fn repr(&mut self, m: Resource<Mmap>) -> wasmtime::Result<String> {
        Ok(self.table.get(&m)?.repr())
    }

    fn drop(&mut self, m: Resource<Mmap>) -> wasmtime::Result<()> {
        match self.remove(m) {
            Err(Error::Trap(t)) => Err(t),
            _ => Ok(()),
        }
    }
}
