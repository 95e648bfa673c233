"""The Lua source of the one-round-trip RECENT page (called by feed/recent_script.py).

A Python string rather than a .lua file beside it, so an installed (non-editable) package
carries it without package-data configuration."""

SOURCE = r"""
-- One RECENT feed page (push / hybrid) in one round trip: feed/recent_script.py calls it.
--
-- KEYS (all passed in; the keys below them are built here from the prefixes in ARGV, which is
-- fine on one Redis but not Redis Cluster-safe: authored:{celebrity}, authb:{celebrity},
-- doc:v2:posts:{post} and doc:v2:users:{author} are computed in this script)
--   1 active zset            2 following:{viewer}     3 tl:{viewer}     4 tlb:{viewer}
--   5 celebs set             6 doc:v2:users:{viewer}  7 activity-dirty set
-- ARGV
--   1 viewer hex   2 now ms   3 want (page size + 1)   4 slack   5 max passes
--   6 bound score or ""   7 bound post id or ""   8 "1" under hybrid   9 timeline cap
--   10 authored: prefix   11 authb: prefix   12 post document prefix   13 user document prefix
--   14 "1" for ranking candidates instead of documents (a RANKED window: see below)
--
-- Reply: {"fallback", reason} when the Python path must run (a stale or unverifiable following
-- set, an unbuilt timeline or celebrity authored set), else
--   {"ok", entries, authors, {exhausted, truncated, last score, last id}, celebrities}
-- entries: flat (post id, score, document or "") in page order; "" is a cache miss, counted
-- toward the page (the caller hydrates, filters and, if short, continues below `last`).
-- authors: flat (author id, document or "") for the authors of the entries that hit.
--
-- With ARGV[14] = "1" a hit's document is replaced by its ranking fields, "author,published
-- ms,likes,comments" (read by one anchored pattern over the entry's lead fields), and no
-- authors are read: ranking a 200-post window then moves 40 bytes per post instead of a whole
-- document, and the caller decodes none. An entry whose lead does not match (written before
-- the lead held those fields) comes back whole, as without the flag.

local viewer, now_ms = ARGV[1], ARGV[2]
local want, slack, max_passes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local cap = tonumber(ARGV[9])

-- Record the read before anything can fall back: fan-out skips readers absent from `active`,
-- and the worker's activity flush (datastore/activity.py) writes users.last_active_at later.
redis.call('ZADD', KEYS[1], now_ms, viewer)
redis.call('SADD', KEYS[7], viewer)

-- Cache entries (datastore/doc_cache.py, v2) start {"d":{"_id":...,<lead fields>: an anchored
-- match reads those without decoding the document; cjson is the fallback for any other order.
local function decoded(raw)
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and type(entry.d) == 'table' then return entry.d end
  return nil
end

local viewer_raw = redis.call('GET', KEYS[6])
if not viewer_raw then return {'fallback', 'viewer document not cached'} end
local expected = string.match(viewer_raw, '^{"d":{"_id":"%x+","following_count":(%-?%d+)[,}]')
if not expected then
  local doc = decoded(viewer_raw)
  if not doc then return {'fallback', 'viewer document unreadable'} end
  expected = doc.following_count or 0
end
if tonumber(expected) ~= redis.call('ZCARD', KEYS[2]) then
  return {'fallback', 'following set disagrees with following_count'}
end
if redis.call('EXISTS', KEYS[4]) == 0 then return {'fallback', 'timeline not built'} end

local sources = {KEYS[3]}
local celebs = {}
if ARGV[8] == '1' then
  celebs = redis.call('ZINTER', 2, KEYS[2], KEYS[5])
  for _, c in ipairs(celebs) do
    if redis.call('EXISTS', ARGV[11] .. c) == 0 then
      return {'fallback', 'authored set not built'}
    end
    sources[#sources + 1] = ARGV[10] .. c
  end
end

local POST_LEAD = '^{"d":{"_id":"%x+","author_id":"(%x+)","status":"(%a+)"'
local RANKING_LEAD = '^{"d":{"_id":"%x+","author_id":"%x+","status":"%a+",'
  .. '"published_at":(%-?%d+),"like_count":(%-?%d+),"comment_count":(%-?%d+)[,}]'
local compact = ARGV[14] == '1'

local followed = {[viewer] = true}  -- author -> followed now (the viewer's own posts count)
local function follows(author)
  local known = followed[author]
  if known == nil then
    known = redis.call('ZSCORE', KEYS[2], author) ~= false
    followed[author] = known
  end
  return known
end

local last_s, last_m = tonumber(ARGV[6]), ARGV[7]  -- nil score: the top of the feed
local function below(s, m)
  return last_s == nil or s < last_s or (s == last_s and m < last_m)
end

local entries, author_ids, author_seen = {}, {}, {}
local count, exhausted, truncated = 0, false, false
local function emit(member, score, raw)
  count = count + 1
  entries[#entries + 1] = member
  entries[#entries + 1] = score
  entries[#entries + 1] = raw
end
for _ = 1, max_passes do
  local per = want - count + slack
  -- Inclusive of the bound's score: ties below the bound's id are kept by `below`.
  local max_score = last_s and string.format('%.17g', last_s) or '+inf'
  local merged, text = {}, {}
  exhausted, truncated = true, false
  for _, key in ipairs(sources) do
    local rows = redis.call(
      'ZREVRANGEBYSCORE', key, max_score, '-inf', 'WITHSCORES', 'LIMIT', 0, per)
    if #rows / 2 >= per then exhausted = false end
    if redis.call('ZCARD', key) >= cap then truncated = true end
    for i = 1, #rows, 2 do
      merged[rows[i]] = tonumber(rows[i + 1])
      text[rows[i]] = rows[i + 1]
    end
  end
  local positions = {}
  for m, s in pairs(merged) do
    if below(s, m) then positions[#positions + 1] = {s, m} end
  end
  table.sort(positions, function(a, b)
    if a[1] ~= b[1] then return a[1] > b[1] end
    return a[2] > b[2]
  end)
  local take = math.min(#positions, per)
  for i = 1, take do
    local s, m = positions[i][1], positions[i][2]
    last_s, last_m = s, m
    local raw = redis.call('GET', ARGV[12] .. m)
    if not raw then
      emit(m, text[m], '')
    else
      local author, status = string.match(raw, POST_LEAD)
      if not author then
        local doc = decoded(raw)
        if doc then author, status = doc.author_id, doc.status end
      end
      if not author then
        emit(m, text[m], '')  -- unreadable here: a miss, which the caller reads its own way
      elseif status == 'READY' and follows(author) then
        local published, likes, comments
        if compact then published, likes, comments = string.match(raw, RANKING_LEAD) end
        if published then
          emit(m, text[m], author .. ',' .. published .. ',' .. likes .. ',' .. comments)
        else
          emit(m, text[m], raw)
        end
        if not compact and not author_seen[author] then
          author_seen[author] = true
          author_ids[#author_ids + 1] = author
        end
      end
    end
    if count >= want then
      -- Positions left unexamined in this pass: the sources are not used up, whatever their
      -- sizes said, so a caller whose misses turn out invisible continues below `last`.
      if i < take then exhausted = false end
      break
    end
  end
  if count >= want or exhausted then break end
end

local authors = {}
for _, a in ipairs(author_ids) do
  authors[#authors + 1] = a
  if a == viewer then
    authors[#authors + 1] = viewer_raw
  else
    authors[#authors + 1] = redis.call('GET', ARGV[13] .. a) or ''
  end
end

local last_score = last_s and string.format('%.17g', last_s) or ''
local flags = {exhausted and 1 or 0, truncated and 1 or 0, last_score, last_m or ''}
return {'ok', entries, authors, flags, celebs}
"""
