//! Chain-loads the boot file from a file system on the SAN disk.

use super::say::{StatusText, status_cause};
use alloc::string::String;
use alloc::vec::Vec;
use uefi::boot::{self, LoadImageSource, SearchType};
use uefi::proto::device_path::DevicePath;
use uefi::proto::device_path::build;
use uefi::proto::loaded_image::LoadedImage;
use uefi::proto::media::fs::SimpleFileSystem;
use uefi::{CString16, Handle, Identify, Status};

/// A loaded (not yet started) image.
#[derive(Debug)]
pub struct Loaded {
    /// The child image.
    pub image: Handle,
    /// The partition (file system) handle it came from.
    pub volume: Handle,
    /// The file's size in bytes.
    pub size: usize,
}

/// The device path bytes of `path` without its end node.
fn without_end(path: &DevicePath) -> &[u8] {
    let bytes = path.as_bytes();
    &bytes[..bytes.len().saturating_sub(4)]
}

/// The file-system handles whose device path lies below `disk`.
pub fn volumes_on(disk: &DevicePath) -> Vec<Handle> {
    let prefix = without_end(disk);
    // The same lookup as the NIC stage's (`locate_handle_buffer`), so one copy is linked.
    let Ok(handles) = boot::locate_handle_buffer(SearchType::ByProtocol(&SimpleFileSystem::GUID))
    else {
        return Vec::new();
    };
    handles
        .iter()
        .copied()
        .filter(|&h| {
            boot::open_protocol_exclusive::<DevicePath>(h)
                .map(|p| without_end(&p).starts_with(prefix))
                .unwrap_or(false)
        })
        .collect()
}

/// Loads `file` from the first volume on `disk` that has it, with the full device path (volume
/// path + file path node) so the child's `LoadedImage.DeviceHandle` and `FilePath` are set, and
/// `args` (if any) as its load options.
pub fn load(disk: &DevicePath, file: &str, args: Option<&str>) -> Result<Loaded, String> {
    let name = CString16::try_from(file).map_err(|_| alloc::format!("bad file name {file}"))?;
    let volumes = volumes_on(disk);
    if volumes.is_empty() {
        return Err(
            "no file system on the disk (no GPT/MBR partition the firmware can read)".into(),
        );
    }
    let mut found = None;
    for &volume in &volumes {
        let Ok(sfs) = boot::open_protocol_exclusive::<SimpleFileSystem>(volume) else {
            continue;
        };
        if let Ok(bytes) = super::file::read(sfs, &name) {
            found = Some((volume, bytes));
            break;
        }
    }
    let Some((volume, bytes)) = found else {
        return Err(alloc::format!(
            "{file} not found on {} volume(s) of the disk",
            volumes.len()
        ));
    };

    let volume_path = boot::open_protocol_exclusive::<DevicePath>(volume)
        .map_err(|e| status_cause("volume device path", e.status()))?
        .to_boxed();
    let mut storage = Vec::new();
    let full_path = super::extend_path(
        &mut storage,
        &volume_path,
        &build::media::FilePath { path_name: &name },
    )?;

    let image = boot::load_image(
        boot::image_handle(),
        LoadImageSource::FromBuffer {
            buffer: &bytes,
            file_path: Some(full_path),
        },
    )
    .map_err(|e| alloc::format!("LoadImage {file}: {}", StatusText(e.status())))?;

    if let Some(args) = args {
        let mut ucs2: Vec<u16> = args.encode_utf16().collect();
        ucs2.push(0);
        let ucs2 = ucs2.leak();
        let mut li = boot::open_protocol_exclusive::<LoadedImage>(image)
            .map_err(|e| status_cause("child LoadedImage", e.status()))?;
        let size = u32::try_from(ucs2.len() * 2).map_err(|_| "boot-args too long")?;
        // SAFETY: the buffer is leaked, so it outlives the child image that reads it.
        unsafe { li.set_load_options(ucs2.as_ptr().cast(), size) };
    }
    Ok(Loaded {
        image,
        volume,
        size: bytes.len(),
    })
}

/// Starts a loaded image; returns its exit status when it returns.
pub fn start(loaded: &Loaded) -> Status {
    match boot::start_image(loaded.image) {
        Ok(()) => Status::SUCCESS,
        Err(e) => e.status(),
    }
}
