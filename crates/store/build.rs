//! `embed_migrations!` reads the migration folders at compile time: without this, cargo would not
//! notice a new or edited migration and would keep serving the old set (as diesel's guide says).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
