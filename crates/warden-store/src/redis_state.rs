//! Redis shared state (to be written).

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisSpec {}

/// Failed-attempt counters and revocation fan-out in Redis.
#[derive(Debug, Clone)]
pub struct RedisState {}
