//! Reads the configuration text: `\sanboot.conf` on the volume the application was loaded from,
//! then the load options (UEFI shell command line), which override the file.

use alloc::string::String;
use uefi::boot;
use uefi::proto::loaded_image::LoadedImage;

/// The configuration file's path on the application's own volume.
pub const CONF_PATH: &str = "\\sanboot.conf";

/// The raw texts, leaked so the parsed configuration can borrow them for the program's lifetime.
#[derive(Debug)]
pub struct Sources {
    /// The file's text, if the file exists.
    pub file: Option<&'static str>,
    /// The load options, if any were given and they are text.
    pub args: Option<&'static str>,
}

/// Reads both sources. A missing file or empty options are not errors; an unreadable file is.
pub fn read() -> Result<Sources, String> {
    let file = match boot::get_image_file_system(boot::image_handle()) {
        Ok(sfs) => {
            let path = uefi::CString16::try_from(CONF_PATH).map_err(|_| "bad path")?;
            match super::file::read(sfs, &path) {
                Ok(bytes) => Some(
                    String::from_utf8(bytes)
                        .map_err(|_| alloc::format!("{CONF_PATH} is not UTF-8"))?,
                ),
                Err(_) => None,
            }
        }
        Err(_) => None,
    };
    let args = boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
        .ok()
        .and_then(|li| {
            li.load_options_as_cstr16()
                .ok()
                .map(String::from)
                .filter(|s| !s.trim().is_empty())
        });
    Ok(Sources {
        file: file.map(|s| &*String::leak(s)),
        args: args.map(|s| &*String::leak(s)),
    })
}
