//! pvelab-examples: small programs that show how to embed `pvelab-core` and use the Proxmox client.
//!
//! Each program lives in `src/bin/` and runs against the simulated cluster (`pvelab-pve-sim`), so
//! no real Proxmox VE installation is needed to try them.
#![warn(missing_docs)]
