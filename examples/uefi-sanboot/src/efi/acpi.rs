//! Installs the iBFT as an ACPI table (`EFI_ACPI_TABLE_PROTOCOL`), so it is linked into the XSDT
//! where the OS looks for it on UEFI boots.

use uefi::boot::{self, MemoryType};
use uefi::proto::acpi::AcpiTable;

/// An installed table, removable by its key.
#[derive(Debug, Clone, Copy)]
pub struct InstalledTable {
    key: usize,
}

/// Installs `table` (which must carry its own correct length and checksum).
pub fn install(table: &[u8]) -> uefi::Result<InstalledTable> {
    let handle = boot::get_handle_for_protocol::<AcpiTable>()?;
    let acpi = boot::open_protocol_exclusive::<AcpiTable>(handle)?;
    // The protocol copies the table, but the interface contract asks for OS-visible memory.
    let pool = boot::allocate_pool(MemoryType::ACPI_RECLAIM, table.len())?;
    // SAFETY: `pool` is a fresh allocation of `table.len()` bytes that nothing else aliases.
    unsafe { core::ptr::copy_nonoverlapping(table.as_ptr(), pool.as_ptr(), table.len()) };
    // SAFETY: `pool` holds a complete table of `table.len()` bytes in ACPI_RECLAIM memory.
    let key = unsafe { acpi.install_acpi_table(pool.as_ptr().cast(), table.len()) };
    // SAFETY: the firmware has copied the table (or failed); the pool is ours to free.
    let _ = unsafe { boot::free_pool(pool) };
    Ok(InstalledTable { key: key? })
}

impl InstalledTable {
    /// Removes the table again (failed boot without `keep-san`).
    pub fn remove(self) -> uefi::Result {
        let handle = boot::get_handle_for_protocol::<AcpiTable>()?;
        let acpi = boot::open_protocol_exclusive::<AcpiTable>(handle)?;
        acpi.uninstall_acpi_table(self.key)
    }
}
