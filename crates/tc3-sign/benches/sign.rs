//! `cargo bench -p tc3-sign`: TC3 signing next to its hashing floor.
//!
//! * `sign_cached`: [`Tc3Signer::sign`] with a warm derived-key cache (the normal case).
//! * `sign_uncached`: [`sign_tc3`] (derives the key chain every time).
//! * `floor_4_hmacs`: the bare work one signature needs, done directly with `sha2`/`hmac`
//!   on prepared inputs: SHA-256 of the body, SHA-256 of a canonical request of the same
//!   length, and the 4 HMACs (3 derived keys + the signature).
//! * `floor_1_hmac`: the exact hashing a cached signer does: the two SHA-256s and one HMAC
//!   from an already keyed HMAC state (what the signer's cache stores). The difference to
//!   `sign_cached` is pure overhead (validation, formatting, the one allocation, the lock).
//!
//! After divan's table, the ratios signer / floor are measured again in this run with
//! interleaved batches and printed (target: `sign_cached` ≤ 1.3 × `floor_4_hmacs`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use divan::{Bencher, counter::BytesCount};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tc3_sign::{Credentials, Payload, Tc3Request, Tc3Signer, sign_tc3};

const SIZES: [usize; 2] = [300, 100 * 1024];
const TS: u64 = 1_700_000_000;
const HOST: &str = "ms.tencentcloudapi.com";
const CT: &str = "application/json";
const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

fn body(len: usize) -> Vec<u8> {
    // JSON-ish ASCII of the requested length.
    let mut b = br#"{"AppInfos": [{"AppUrl": "http://example.com/"#.to_vec();
    while b.len() + 3 < len {
        b.push(b'a' + (b.len() % 26) as u8);
    }
    b.extend_from_slice(b"\"]}");
    b.truncate(len);
    b
}

fn creds() -> Credentials {
    Credentials::new(ID, KEY).expect("valid credentials")
}

fn request(body: &[u8]) -> Tc3Request<'_> {
    Tc3Request {
        method: "POST",
        host: HOST,
        path: "/",
        query: "",
        content_type: CT,
        payload: Payload::Bytes(body),
    }
}

/// Inputs of the floor: a canonical request and a string to sign of the real lengths.
struct Floor {
    body: Vec<u8>,
    canonical: Vec<u8>,
    string_to_sign: Vec<u8>,
    keyed: Hmac<Sha256>,
}

impl Floor {
    fn new(len: usize) -> Self {
        let body = body(len);
        let sig = sign_tc3(&request(&body), &creds(), "ms", TS).expect("signs");
        let keys = tc3_sign::derive_keys(KEY, sig.date(), "ms");
        Floor {
            canonical: sig.canonical_request().as_bytes().to_vec(),
            string_to_sign: sig.string_to_sign().as_bytes().to_vec(),
            keyed: Hmac::<Sha256>::new_from_slice(&keys.secret_signing).expect("any key length"),
            body,
        }
    }

    fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }

    /// SHA-256(body), SHA-256(canonical request), then 4 HMACs (`full_chain`) or one HMAC
    /// from the pre-keyed state.
    fn run(&self, full_chain: bool) -> [u8; 32] {
        let body_hash: [u8; 32] = Sha256::digest(black_box(&self.body)).into();
        black_box(body_hash);
        let cr_hash: [u8; 32] = Sha256::digest(black_box(&self.canonical)).into();
        black_box(cr_hash);
        if full_chain {
            let mut k0 = Vec::with_capacity(3 + KEY.len());
            k0.extend_from_slice(b"TC3");
            k0.extend_from_slice(KEY.as_bytes());
            let k1 = Self::hmac(&k0, b"2023-11-14");
            let k2 = Self::hmac(&k1, b"ms");
            let k3 = Self::hmac(&k2, b"tc3_request");
            Self::hmac(&k3, black_box(&self.string_to_sign))
        } else {
            let mut mac = self.keyed.clone();
            mac.update(black_box(&self.string_to_sign));
            mac.finalize().into_bytes().into()
        }
    }
}

#[divan::bench(args = SIZES)]
fn sign_cached(bencher: Bencher<'_, '_>, len: usize) {
    let body = body(len);
    let creds = creds();
    let signer = Tc3Signer::new();
    signer
        .sign(&request(&body), &creds, "ms", TS)
        .expect("signs");
    bencher
        .counter(BytesCount::new(len))
        .bench_local(|| signer.sign(black_box(&request(&body)), &creds, "ms", TS));
}

#[divan::bench(args = SIZES)]
fn sign_uncached(bencher: Bencher<'_, '_>, len: usize) {
    let body = body(len);
    let creds = creds();
    bencher
        .counter(BytesCount::new(len))
        .bench_local(|| sign_tc3(black_box(&request(&body)), &creds, "ms", TS));
}

#[divan::bench(args = SIZES)]
fn floor_4_hmacs(bencher: Bencher<'_, '_>, len: usize) {
    let floor = Floor::new(len);
    bencher
        .counter(BytesCount::new(len))
        .bench_local(|| floor.run(true));
}

#[divan::bench(args = SIZES)]
fn floor_1_hmac(bencher: Bencher<'_, '_>, len: usize) {
    let floor = Floor::new(len);
    bencher
        .counter(BytesCount::new(len))
        .bench_local(|| floor.run(false));
}

/// Fastest per-iteration time of `f` and of `g` over `rounds` interleaved batches of
/// `iters` (on a shared machine, noise only ever adds time, so the minimum is the most
/// stable estimate; both sides get the same treatment).
fn interleaved(
    iters: u32,
    rounds: usize,
    mut f: impl FnMut(),
    mut g: impl FnMut(),
) -> (Duration, Duration) {
    let mut fs = Vec::with_capacity(rounds);
    let mut gs = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        fs.push(t.elapsed() / iters);
        let t = Instant::now();
        for _ in 0..iters {
            g();
        }
        gs.push(t.elapsed() / iters);
    }
    (
        fs.into_iter().min().unwrap_or_default(),
        gs.into_iter().min().unwrap_or_default(),
    )
}

fn ratio_report() {
    println!();
    println!("tc3-sign: signer / hashing floor (fastest of interleaved batches, same run)");
    println!(
        "{:>8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>14}  {:>14}",
        "body",
        "sign_cached",
        "floor_4hmac",
        "floor_1hmac",
        "uncached",
        "cached/floor4",
        "cached/floor1"
    );
    for len in SIZES {
        let body = body(len);
        let creds = creds();
        let signer = Tc3Signer::new();
        let floor = Floor::new(len);
        let iters = if len > 10_000 { 200 } else { 20_000 };
        let sign = || {
            black_box(
                signer
                    .sign(black_box(&request(&body)), &creds, "ms", TS)
                    .ok(),
            );
        };
        let (cached, floor4) = interleaved(iters, 41, sign, || {
            black_box(floor.run(true));
        });
        let (cached2, floor1) = interleaved(iters, 41, sign, || {
            black_box(floor.run(false));
        });
        let (uncached, _) = interleaved(
            iters,
            11,
            || {
                black_box(sign_tc3(black_box(&request(&body)), &creds, "ms", TS).ok());
            },
            || {},
        );
        println!(
            "{:>8}  {:>12?}  {:>12?}  {:>12?}  {:>12?}  {:>13.3}x  {:>13.3}x",
            len,
            cached,
            floor4,
            floor1,
            uncached,
            cached.as_secs_f64() / floor4.as_secs_f64(),
            cached2.as_secs_f64() / floor1.as_secs_f64(),
        );
    }
}

fn main() {
    divan::main();
    // Only for a full `cargo bench` run (not `--test`, not with a name filter).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--bench") && args.iter().all(|a| a.starts_with('-')) {
        ratio_report();
    }
}
