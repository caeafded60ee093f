//! Step 0: the tutorial's program, translated word for word, and why the compiler rejects it.
//!
//! ```compile_fail,E0499
//! // Ten threads, one plain integer, `counter += 1` in each.
//! let mut counter = 0u64;
//! std::thread::scope(|s| {
//!     for _ in 0..10 {
//!         s.spawn(|| {
//!             for _ in 0..1000 {
//!                 counter += 1;
//!             }
//!         });
//!     }
//! });
//! ```
//!
//! The compiler says "cannot borrow `counter` as mutable more than once at a time" (E0499):
//! `counter += 1` needs a `&mut u64`, which Rust guarantees is the *only* way to reach that
//! integer while it lives, and ten threads running at once cannot each hold the only one. A
//! data race needs two threads with access to the same place and at least one writing without
//! synchronisation; `&mut` (one writer) or `&` (many readers) rules that out before the program
//! runs. (`move` closures would compile, but each thread would then count its own copy.)
//!
//! The global that Python uses fares no better:
//!
//! ```compile_fail,E0133
//! static mut COUNTER: u64 = 0;
//! std::thread::spawn(|| COUNTER += 1);
//! ```
//!
//! "use of mutable static is unsafe" (E0133): any thread may touch a `static mut`, so the
//! compiler cannot prove accesses are not racing and leaves it to an `unsafe` block, where this
//! code would be undefined behaviour. The way out is a type that can be changed through a shared
//! reference because it synchronises inside: an atomic ([`s1_racy`](super::s1_racy) uses one,
//! badly; [`s3_atomic`](super::s3_atomic) well) or a lock ([`s2_mutex`](super::s2_mutex)).
