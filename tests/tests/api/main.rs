//! Black-box API tests: one binary, each test on its own server and database, on SQLite and on
//! PostgreSQL (`ICAT_TEST_PG_URL`).

mod activities;
mod agencies;
mod auth;
mod backup;
mod countries;
mod directory;
mod framework;
mod inputs;
mod limits;
mod lists;
mod match_model;
mod matrix;
mod metrics;
mod migrations;
mod notices;
mod probes;
mod races;
mod reports;
mod reset;
mod users;
