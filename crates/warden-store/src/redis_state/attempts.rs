//! Failed-attempt counters in Redis, with exactly the semantics of the in-process counters.
//!
//! Each key is one hash `{window, failures, streak, blocked_until}`, updated by a Lua script
//! so that concurrent failures from every replica are counted once each. Time is the caller's
//! `now_ms`, never Redis `TIME`, so the windows are those of `MemoryAttempts`.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::RedisState;
use crate::attempts::retry_after_secs;
use crate::{AttemptKey, AttemptState, StoreError};

/// Lua numbers are doubles: integers above 2^53 would be rounded, so inputs are capped here
/// (2^53 ms is 285 000 years, well past any clock or limit).
const MAX_EXACT: u64 = (1 << 53) - 1;

/// KEYS: one counter per attempt key. ARGV: now_ms, window index, window_ms, max_backoff_ms,
/// then the limit of each key in KEYS order. The arithmetic mirrors `Counter::record` in
/// attempts/memory.rs line for line.
const RECORD_LUA: &str = r#"
local now, window, window_ms, max_backoff =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
-- tostring keeps 14 significant digits; %d prints every integer below 2^53 exactly.
local function int(x) return string.format('%d', x) end
local function backoff(streak)
  if streak < 2 then return 0 end
  return math.min(window_ms * 2 ^ (streak - 2), max_backoff)
end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[4 + i])
  local s = redis.call('HMGET', key, 'window', 'failures', 'streak', 'blocked_until')
  local w, failures = tonumber(s[1]) or 0, tonumber(s[2]) or 0
  local streak, blocked = tonumber(s[3]) or 0, tonumber(s[4]) or 0
  if w ~= window then failures = 0 end
  failures = failures + 1
  if failures == limit then
    -- window <= floor(blocked / window_ms), without a rounding division.
    if streak > 0 and window * window_ms <= blocked then
      streak = streak + 1
    else
      streak = 1
    end
    blocked = (window + 1) * window_ms + backoff(streak)
  end
  redis.call('HSET', key, 'window', int(window), 'failures', int(failures),
    'streak', int(streak), 'blocked_until', int(blocked))
  -- Forget the key once neither its window nor its block (nor the streak it may continue)
  -- can matter any more.
  redis.call('PEXPIRE', key, int(math.max(blocked - now, 0) + window_ms))
end
return 0
"#;

/// KEYS: counters. Returns the latest `blocked_until` among them (0: none).
const BLOCKED_LUA: &str = r#"
local latest = 0
for _, key in ipairs(KEYS) do
  latest = math.max(latest, tonumber(redis.call('HGET', key, 'blocked_until')) or 0)
end
return latest
"#;

static RECORD: LazyLock<Script> = LazyLock::new(|| Script::new(RECORD_LUA));
static BLOCKED: LazyLock<Script> = LazyLock::new(|| Script::new(BLOCKED_LUA));

#[async_trait]
impl AttemptState for RedisState {
    async fn retry_after(
        &self,
        keys: &[AttemptKey],
        now_ms: u64,
    ) -> Result<Option<Duration>, StoreError> {
        if keys.is_empty() {
            return Ok(None);
        }
        let mut call = BLOCKED.prepare_invoke();
        for key in keys {
            call.key(self.attempt_key(key));
        }
        let blocked_until: u64 = self
            .bounded(async {
                let mut conn = self.target.connection().await?;
                call.invoke_async(&mut conn).await
            })
            .await?;
        let remaining = blocked_until.saturating_sub(now_ms.min(MAX_EXACT));
        Ok((remaining > 0).then(|| retry_after_secs(remaining)))
    }

    async fn record_failure(&self, keys: &[AttemptKey], now_ms: u64) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let limits = &self.spec.limits;
        let now = now_ms.min(MAX_EXACT);
        let window_ms = limits.window().min(MAX_EXACT);
        let mut call = RECORD.prepare_invoke();
        call.arg(now)
            .arg(now / window_ms)
            .arg(window_ms)
            .arg(limits.max_backoff_ms.min(MAX_EXACT));
        for key in keys {
            call.key(self.attempt_key(key))
                .arg(limits.limit_for(key).max(1));
        }
        self.bounded(async {
            let mut conn = self.target.connection().await?;
            call.invoke_async::<()>(&mut conn).await
        })
        .await
    }
}
