-- A write mix over every seeded tenant: comments, favourites and unfavourites (each a transaction of two
-- writes), and new articles.
local tenants

function init(args)
  tenants = dofile(args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local t = tenants[math.random(#tenants)]
  local headers = {
    ["Authorization"] = "Token " .. t.tokens[math.random(#t.tokens)],
    ["Content-Type"] = "application/json",
  }
  local slug = t.slugs[math.random(#t.slugs)]
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("POST", t.api .. "/articles/" .. slug .. "/comments", headers,
      '{"comment":{"body":"A comment from the benchmark"}}')
  elseif r <= 65 then
    return wrk.format("POST", t.api .. "/articles/" .. slug .. "/favorite", headers)
  elseif r <= 90 then
    return wrk.format("DELETE", t.api .. "/articles/" .. slug .. "/favorite", headers)
  else
    return wrk.format("POST", t.api .. "/articles", headers,
      '{"article":{"title":"Benchmark article","description":"d","body":"text","tagList":["bench"]}}')
  end
end
