-- A read-heavy mix over every seeded tenant: article lists (global, by tag, by author, the feed), single
-- articles, comments, profiles and tags; half the requests signed in.
local tenants

function init(args)
  tenants = dofile(args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local tags = { "rust", "mongodb", "tenancy", "web", "async", "serde", "axum", "bench" }

function request()
  local t = tenants[math.random(#tenants)]
  local headers = {}
  local signed = math.random() < 0.5
  if signed then
    headers["Authorization"] = "Token " .. t.tokens[math.random(#t.tokens)]
  end
  local r = math.random(100)
  local path
  if r <= 30 then
    path = "/articles?limit=20&offset=" .. (math.random(3) - 1) * 20
  elseif r <= 40 then
    path = "/articles?tag=" .. tags[math.random(#tags)]
  elseif r <= 45 then
    path = "/articles?author=" .. t.users[math.random(#t.users)]
  elseif r <= 50 and signed then
    path = "/articles/feed"
  elseif r <= 75 then
    path = "/articles/" .. t.slugs[math.random(#t.slugs)]
  elseif r <= 90 then
    path = "/articles/" .. t.slugs[math.random(#t.slugs)] .. "/comments"
  elseif r <= 95 then
    path = "/profiles/" .. t.users[math.random(#t.users)]
  else
    path = "/tags"
  end
  return wrk.format("GET", t.api .. path, headers)
end
