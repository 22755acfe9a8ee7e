//! Identifiers of the graphs: `JobId`, `JobVertexId` and a stable hash.
//!
//! Flink names jobs and job vertices with 128-bit ids printed as 32 hex
//! digits (`cbc357ccb763df2852fee8c4fc7d55f2`). Vertex ids are hashes of the
//! graph's structure (`StreamGraphHasherV2`), so the same program gets the same
//! ids on every submission. mini-flink does the same with FNV-1a, never with a
//! random source, so simulated runs stay reproducible.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of a node of the StreamGraph: its position in declaration order
/// (petgraph's `NodeIndex::index()`).
pub type NodeIdx = usize;

/// 64-bit FNV-1a, a tiny stable hash (std's `DefaultHasher` may change
/// between Rust releases, which would change ids and traces).
#[derive(Debug, Clone)]
pub struct Fnv64(u64);

impl Fnv64 {
    /// A hasher at the FNV offset basis.
    pub fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    /// A hasher whose basis is mixed with `seed`, for independent halves.
    pub fn with_seed(seed: u64) -> Self {
        let mut h = Fnv64::new();
        h.write(&seed.to_le_bytes());
        h
    }
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

/// 128 bits from a list of parts, printed as Flink prints its ids.
fn hash128(parts: &[&str]) -> u128 {
    let mut hi = Fnv64::with_seed(1);
    let mut lo = Fnv64::with_seed(2);
    for p in parts {
        for h in [&mut hi, &mut lo] {
            h.write(&(p.len() as u64).to_le_bytes());
            h.write(p.as_bytes());
        }
    }
    (u128::from(fmix64(hi.finish())) << 64) | u128::from(fmix64(lo.finish()))
}

/// MurmurHash3's finaliser: spreads every input bit over the output, so
/// similar operator ids do not give similar-looking vertex ids.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// An id that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an id (32 hex digits)")]
pub struct BadId(String);

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u128);

        impl $name {
            /// The id derived from these parts (same parts, same id).
            pub fn from_parts(parts: &[&str]) -> Self {
                $name(hash128(parts))
            }
            /// The first 8 hex digits, as prose and narrow screens print it.
            pub fn short(&self) -> String {
                let mut s = self.to_string();
                s.truncate(8);
                s
            }
            /// Parses 32 hex digits.
            pub fn parse(s: &str) -> Option<Self> {
                if s.len() != 32 {
                    return None;
                }
                u128::from_str_radix(s, 16).ok().map($name)
            }
        }

        impl std::str::FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| BadId(s.to_string()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:032x}", self.0)
            }
        }
    };
}

hex_id!(
    /// A job's id (`JobID`), 32 hex digits.
    JobId
);
hex_id!(
    /// An application's id (Flink 2.x's `ApplicationID`), 32 hex digits. A
    /// job submitted on its own is an application whose id is the job's.
    ApplicationId
);
hex_id!(
    /// A job vertex's id (`JobVertexID`), stable for the same chain.
    JobVertexId
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are stable and print as 32 hex digits, like Flink's.
    #[test]
    fn ids_are_stable_hex() {
        let a = JobVertexId::from_parts(&["src", "map"]);
        assert_eq!(a, JobVertexId::from_parts(&["src", "map"]));
        assert_ne!(a, JobVertexId::from_parts(&["srcmap"]));
        let s = a.to_string();
        assert_eq!(s.len(), 32);
        assert_eq!(JobVertexId::parse(&s), Some(a));
    }
}
