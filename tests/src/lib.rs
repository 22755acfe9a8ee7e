//! Cross-crate tests live in tests/tests/; this library holds what they
//! share with the `bench` and `book` binaries.
//!
//! | module | what |
//! |---|---|
//! | [`book`] | the book's generated outputs, screens and pictures, and its exercises' checks |
//! | [`real_process`] | the `mini-flink` binary (built when needed) and waiting for its processes |

pub mod book;
pub mod real_process;
