// The step is its documentation: the tutorial's program in Rust, checked by rustdoc to fail to
// compile with the error it names. It lives in a Markdown file so the book can show the same
// blocks.
#![doc = include_str!("s0_does_not_compile.md")]
