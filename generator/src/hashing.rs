//! The generator's own hash maps. Their keys are names, pointers and pieces of code taken from
//! the spec, hashed millions of times for a large API; `foldhash` hashes them several times
//! faster than the standard SipHash and is still seeded per process, so a hostile spec cannot
//! pick keys that collide.

/// A hash map with the generator's hasher.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with the generator's hasher.
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
