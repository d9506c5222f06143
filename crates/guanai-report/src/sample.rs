//! Reproducible spot-check draws (不定期抽查, 三(三) of 临政办发〔2014〕42号): which families an
//! inspection visits, drawn from a seed anyone can re-run, and a digest of the list drawn from so an
//! inspector can prove the draw was made over that list and no other.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// Draws `min(size, population.len())` distinct indices into `population`, in the order drawn.
///
/// The function takes the list as given: the caller passes the family ids sorted by id, so the same
/// families and the same seed always give the same families. The draw is a partial Fisher–Yates
/// shuffle driven by `ChaCha8Rng::seed_from_u64(seed)`; record the seed and
/// [`population_digest`] with the result so the draw can be re-run and checked.
pub fn draw(population: &[String], size: usize, seed: u64) -> Vec<usize> {
    let n = population.len();
    let k = size.min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut indices: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = rng.random_range(i..n);
        indices.swap(i, j);
    }
    indices.truncate(k);
    indices
}

/// The lowercase hex SHA-256 of the ids joined by '\n' (no trailing newline), in the order given.
/// Family ids never contain a newline, so the joined text determines the list.
pub fn population_digest(population: &[String]) -> String {
    let mut hasher = Sha256::new();
    for (i, id) in population.iter().enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(id.as_bytes());
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest.iter() {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("F{i:04}")).collect()
    }

    #[test]
    fn the_same_seed_and_list_give_the_same_draw() {
        let population = ids(500);
        assert_eq!(draw(&population, 20, 7), draw(&population, 20, 7));
    }

    #[test]
    fn different_seeds_give_different_draws() {
        let population = ids(500);
        assert_ne!(draw(&population, 20, 1), draw(&population, 20, 2));
    }

    #[test]
    fn indices_are_distinct_and_in_range() {
        let population = ids(50);
        for seed in 0..200 {
            let drawn = draw(&population, 30, seed);
            assert_eq!(drawn.len(), 30);
            assert!(drawn.iter().all(|&i| i < population.len()));
            assert_eq!(drawn.iter().collect::<HashSet<_>>().len(), drawn.len());
        }
    }

    #[test]
    fn asking_for_more_than_everyone_gives_everyone() {
        let population = ids(7);
        let mut drawn = draw(&population, 100, 3);
        drawn.sort_unstable();
        assert_eq!(drawn, (0..7).collect::<Vec<_>>());
        assert!(draw(&[], 5, 3).is_empty());
        assert!(draw(&population, 0, 3).is_empty());
    }

    #[test]
    fn seed_42_over_ten_ids_is_pinned() {
        // Pinned: a change of generator, sampling or shuffle breaks the re-run of past draws.
        assert_eq!(draw(&ids(10), 4, 42), vec![2, 7, 3, 9]);
        assert_eq!(draw(&ids(10), 10, 42), vec![2, 7, 3, 9, 8, 1, 5, 4, 0, 6]);
    }

    #[test]
    fn digest_is_sha256_of_the_joined_ids() {
        // SHA-256("") and SHA-256("abc") are the standard test vectors.
        assert_eq!(
            population_digest(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            population_digest(&["abc".to_owned()]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // "a\nbc" differs from "ab\nc": the separator is hashed.
        assert_ne!(
            population_digest(&["a".to_owned(), "bc".to_owned()]),
            population_digest(&["ab".to_owned(), "c".to_owned()])
        );
        assert_eq!(population_digest(&ids(3)).len(), 64);
    }
}
