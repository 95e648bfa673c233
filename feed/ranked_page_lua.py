"""The Lua source of the one-round-trip RANKED page (called by feed/ranked_script.py).

A Python string rather than a .lua file beside it, for the same reason as recent_page_lua.py."""

SOURCE = r"""
-- One RANKED feed page from its snapshot in one round trip: feed/ranked_script.py calls it.
--
-- KEYS
--   1 rkl:{viewer} (the snapshot a first page reuses)   2 active zset   3 activity-dirty set
-- ARGV
--   1 viewer hex   2 now ms   3 snapshot id, or "" for a first page   4 offset   5 page size
--   6 snapshot key prefix (rk:{viewer}:)   7 post document prefix   8 user document prefix
-- (The snapshot and document keys are built here from prefixes, as the RECENT script does:
-- fine on one Redis, not Redis Cluster-safe.)
--
-- Reply: {"new"} for a first page with no reusable snapshot (the caller ranks one, then calls
-- again with its id); {"expired"} for a cursor whose snapshot is gone; else
--   {"ok", snapshot, next window or "", ids, documents, authors}
-- ids: the page's post ids plus one more when there is one (has_next); documents: one per id
-- of the page ("" for a cache miss); authors: flat (author id, document or "") for the
-- documents that hit.

local snapshot = ARGV[3]
local first_page = snapshot == ''
if first_page then
  snapshot = redis.call('GET', KEYS[1])
  if not snapshot then return {'new'} end
end
local key = ARGV[6] .. snapshot
if redis.call('EXISTS', key .. ':meta') == 0 then
  if first_page then return {'new'} end
  return {'expired'}
end
if first_page then
  -- A first page is a feed read: record it for fan-out and the activity flush, as RECENT does.
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
end

local offset, size = tonumber(ARGV[4]), tonumber(ARGV[5])
local ids = redis.call('LRANGE', key, offset, offset + size)
local next_window = redis.call('HGET', key .. ':meta', 'next') or ''

local POST_AUTHOR = '^{"d":{"_id":"%x+","author_id":"(%x+)"'
local docs, authors, seen = {}, {}, {}
for i = 1, math.min(#ids, size) do
  local raw = redis.call('GET', ARGV[7] .. ids[i])
  docs[i] = raw or ''
  if raw then
    local author = string.match(raw, POST_AUTHOR)
    if not author then
      local ok, entry = pcall(cjson.decode, raw)
      if ok and type(entry) == 'table' and type(entry.d) == 'table' then
        author = entry.d.author_id
      end
    end
    if author and not seen[author] then
      seen[author] = true
      authors[#authors + 1] = author
      authors[#authors + 1] = redis.call('GET', ARGV[8] .. author) or ''
    end
  end
end
return {'ok', snapshot, next_window, ids, docs, authors}
"""
