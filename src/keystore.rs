//! Sharing downloaded platform certificates between processes and across restarts: the
//! [`KeyStore`] trait and [`FileKeyStore`], a manifest file in a directory.
//!
//! In automatic mode ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates))
//! with a store ([`ClientBuilder::key_store`](crate::ClientBuilder::key_store)), a client
//! reads the store before it downloads, and writes every download to it:
//!
//! * at the first request, a set downloaded less than one refresh interval ago is used as it
//!   is, so a restart (or the tenth process of a fleet) sends no download;
//! * at each scheduled refresh, the same: the first process whose timer fires downloads and
//!   saves, the others find a fresh store;
//! * when an answer names an unknown serial, a store holding a set downloaded **after** the
//!   client's own last download (another process saw the rotation first) spares the
//!   download; an older set never replaces a newer one, so a certificate WeChat Pay withdrew
//!   cannot come back from the store;
//! * before a download, a store shared by a fleet lets one process download while the others
//!   wait for its result ([`KeyStore::lease`]).
//!
//! **A save is the complete set.** Each save replaces what the store held with exactly what
//! WeChat Pay listed in one download, with the listed validity of each certificate and the
//! time of the download ([`StoredSet`]): a certificate WeChat Pay stopped listing is gone
//! from the store with the next save, and a certificate is never trusted beyond its listed
//! `expire_time`. A reader sees the old set or the new one, never a mix.
//!
//! What a store holds is trusted as it is: keep it writable by your services only
//! ([`FileKeyStore`] refuses a directory others may write to). The certificates themselves
//! are public; no secret is ever written.

mod contract;
mod file;
mod strict;

pub use contract::{KeyStore, Lease, StoredCertificate, StoredSet};
pub use file::FileKeyStore;
