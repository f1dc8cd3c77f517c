package redismgr

import "github.com/redis/go-redis/v9"

// loadScript reads a session in one round trip: nothing when the key is
// gone, just the version when it equals the caller's cached one, else the
// whole hash. With a TTL (ARGV[2] > 0) it also touches the session:
// lastAccessedTime := ARGV[3] and the key's expiry := ARGV[2] ms.
//
// KEYS[1] the hash; ARGV[1] cached version or ""; ARGV[2] ttl ms or 0;
// ARGV[3] now in unix ms.
var loadScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return false end
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], 'lastAccessedTime', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if v == ARGV[1] then return v end
return redis.call('HGETALL', KEYS[1])
`)

// writeScript applies one request's changes atomically: nothing is written
// when the session is gone (another node invalidated it, or it expired),
// unless it is new or put (Manager.Put). whole and put replace every field. It bumps the version, publishes "<version> <id>" on the
// invalidation channel and returns the new version, or -1 when the session
// is gone.
//
// KEYS[1] the hash; ARGV[1] "new" | "update" | "whole" | "put"; ARGV[2] ttl ms
// (0: no expiry); ARGV[3] the invalidation channel; ARGV[4] the id;
// ARGV[5] n = number of field/value pairs to set, then the pairs, then the
// fields to delete.
var writeScript = redis.NewScript(`
local key = KEYS[1]
local mode = ARGV[1]
local exists = redis.call('EXISTS', key) == 1
if mode ~= 'new' and mode ~= 'put' and not exists then return -1 end
local version = 0
if exists then version = tonumber(redis.call('HGET', key, 'version') or '0') end
if mode == 'whole' or mode == 'put' then redis.call('DEL', key) end
local n = tonumber(ARGV[5])
local i = 6
while i < 6 + 2 * n do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', key, ARGV[i])
  i = i + 1
end
version = version + 1
redis.call('HSET', key, 'version', version)
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', key, ttl) else redis.call('PERSIST', key) end
redis.call('PUBLISH', ARGV[3], version .. ' ' .. ARGV[4])
return version
`)
