//! End to end under firmware: `cargo xtask e2e` boots `uefi-sanboot` in QEMU + OVMF with two
//! NICs; it logs in to a tgtd LUN over the second port, attaches it as a disk, installs the iBFT
//! and chain-loads the payload, which must find a correct iBFT (see `xtask/src/e2e.rs`).
//!
//! Runs the iSCSI backend's scenarios (boot with mutual CHAP and both ports in the iBFT; only
//! the SAN port with one-way CHAP; an idle session kept alive while tgtd pings it; a wrong
//! CHAP secret that must fail fast; missing boot file;
//! failover to the secondary target; Debian's kernel and an initramfs booted from the LUN,
//! whose `iscsi_ibft` must describe this machine): a `firmware`-profile build of both UEFI apps (cargo
//! releases its build lock before it runs tests, so the nested cargo shares the target
//! directory), then one QEMU boot of 10-35 s per scenario. Where tgtd cannot run (not installed, not root) the RAM-disk backend's
//! boot scenario runs instead.
//! After the boots, the built `uefi-sanboot.efi` is checked for stack frames above
//! [`MAX_FRAME`] (UEFI promises an application only 128 KiB of stack).
//! Skipped, with a message, where QEMU, OVMF or tgtd is not installed (`cargo xtask setup`
//! installs them; CI always has them); the iSCSI part needs root for tgtd.

use iscsi_boot_tests::linux_vm;
use std::path::{Path, PathBuf};
use std::process::Command;

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Debian's kernel and an initramfs that loads `virtio_pci`, `virtio_net` and `iscsi_ibft` and
/// reports `/sys/firmware/ibft` (with each record's interface address), for the `linux`
/// scenario; `None` (with a message) where the kernel or busybox is missing.
fn linux_boot_files() -> Option<(PathBuf, PathBuf)> {
    if !linux_vm::available_or_skip("uefi e2e scenario linux") {
        return None;
    }
    let kernel = linux_vm::Kernel::find().expect("available_or_skip found it");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("uefi-e2e-linux");
    std::fs::create_dir_all(&dir).expect("create the initramfs directory");
    let initrd = dir.join("initrd.img");
    linux_vm::build_initramfs_with(&kernel, &["virtio_pci", "virtio_net"], &initrd)
        .expect("build the initramfs");
    Some((kernel.image, initrd))
}

fn xtask_e2e(args: &[&str]) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives one level below the workspace root");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "e2e",
            "--timeout",
            "120",
        ])
        .args(args)
        .current_dir(workspace)
        .output()
        .expect("cargo runs");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "cargo xtask e2e {args:?} failed:\n{log}"
    );
    log
}

#[test]
fn sanboot_attaches_disk_installs_ibft_and_chain_loads_payload() {
    if !on_path("qemu-system-x86_64") || !Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists() {
        eprintln!("skipped: qemu-system-x86_64 or OVMF not installed (run `cargo xtask setup`)");
        return;
    }
    let tgtd = Path::new("/usr/sbin/tgtd").exists() || on_path("tgtd");
    if tgtd && is_root() {
        let linux = linux_boot_files();
        let mut args = vec!["--backend", "iscsi"];
        if let Some((kernel, initrd)) = &linux {
            args.extend([
                "--linux",
                kernel.to_str().expect("UTF-8 path"),
                initrd.to_str().expect("UTF-8 path"),
            ]);
        }
        let log = xtask_e2e(&args);
        if linux.is_some() {
            assert!(
                log.contains("e2e: scenario linux: OK"),
                "iscsi scenario linux did not pass:\n{log}"
            );
        }
        for scenario in [
            "boot",
            "san-only-one-way-chap",
            "idle",
            "wrong-secret",
            "missing-boot-file",
            "failover",
        ] {
            assert!(
                log.contains(&format!("e2e: scenario {scenario}: OK")),
                "iscsi scenario {scenario} did not pass:\n{log}"
            );
        }
        check_stack_frames();
    } else {
        eprintln!("iSCSI backend skipped (needs tgtd and root); RAM-disk backend instead");
        let log = xtask_e2e(&["--backend", "ram", "--scenario", "boot"]);
        assert!(
            log.contains("e2e: scenario boot: OK"),
            "ram scenario boot did not pass:\n{log}"
        );
    }
}

/// The largest stack frame any function of `uefi-sanboot.efi` may allocate. UEFI guarantees
/// an application 128 KiB of stack (UEFI spec, "Calling Conventions"); keeping each frame
/// small keeps the deepest chain well inside that (see `docs/sanboot.md` "Stack"). Frames stay
/// below 16 KiB except one leaf that builds the initiator's 22 KiB `Client` before boxing it.
const MAX_FRAME: u32 = 24 * 1024;

/// Fails when a function in the iSCSI build of `uefi-sanboot.efi` (which the e2e just built)
/// allocates a stack frame above [`MAX_FRAME`].
fn check_stack_frames() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives one level below the workspace root");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let efi = target.join("x86_64-unknown-uefi/firmware/uefi-sanboot.efi");
    let image = std::fs::read(&efi).unwrap_or_else(|e| panic!("read {}: {e}", efi.display()));
    let text = pe_section(&image, b".text").expect("uefi-sanboot.efi has a .text section");
    let frames = probed_frames(text);
    assert!(
        !frames.is_empty(),
        "no probed stack frame found: the __chkstk pattern changed, update probed_frames"
    );
    let largest = frames.iter().copied().max().unwrap_or(0);
    eprintln!(
        "uefi-sanboot.efi: {} frames above 4 KiB, the largest {largest} bytes",
        frames.len()
    );
    assert!(
        largest <= MAX_FRAME,
        "uefi-sanboot.efi has a {largest}-byte stack frame (limit {MAX_FRAME}): build large \
         values on the heap (see docs/sanboot.md \"Stack\"); all probed frames: {frames:?}"
    );
}

/// The raw bytes of the PE section `name` (PE/COFF spec: `e_lfanew` at 0x3c, the COFF header
/// after the `PE\0\0` signature, the section table after the optional header).
fn pe_section<'a>(image: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(image.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(image.get(at..at + 4)?.try_into().ok()?));
    let pe = u32_at(0x3c)? as usize;
    if image.get(pe..pe + 4)? != b"PE\0\0" {
        return None;
    }
    let coff = pe + 4;
    let sections = usize::from(u16_at(coff + 2)?);
    let optional_len = usize::from(u16_at(coff + 16)?);
    let table = coff + 20 + optional_len;
    (0..sections).find_map(|i| {
        let header = table + i * 40;
        let section_name = image.get(header..header + 8)?;
        if !section_name.starts_with(name) || section_name.get(name.len()).is_some_and(|&b| b != 0)
        {
            return None;
        }
        let size = u32_at(header + 16)? as usize;
        let offset = u32_at(header + 20)? as usize;
        image.get(offset..offset.checked_add(size)?)
    })
}

/// The sizes of the stack frames above a page in x86-64 Windows-ABI code: LLVM allocates
/// them with the stack probe `mov eax, SIZE; call __chkstk; sub rsp, rax`
/// (`B8 imm32 E8 rel32 48 29 C4`). Smaller frames (`sub rsp, imm`) need no check here.
fn probed_frames(text: &[u8]) -> Vec<u32> {
    text.windows(13)
        .filter(|w| w[0] == 0xb8 && w[5] == 0xe8 && w[10..13] == [0x48, 0x29, 0xc4])
        .map(|w| u32::from_le_bytes([w[1], w[2], w[3], w[4]]))
        .collect()
}
