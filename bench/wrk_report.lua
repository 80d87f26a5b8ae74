-- wrk reporter for bench/load.py: every request carries the proxy's https header (the shop runs
-- in production mode), and the summary is printed as one JSON line.
wrk.headers["X-Forwarded-Proto"] = "https"
-- bench/load.py sets BENCH_COOKIE to load a page as a returning visitor.
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
-- With BENCH_FORM (url-encoded fields) every request is that form's POST, from a page of the
-- same site (BENCH_REFERER): Django's CSRF check over HTTPS wants a Referer of its own origin.
local form = os.getenv("BENCH_FORM")
if form and form ~= "" then
  wrk.method = "POST"
  wrk.body = form
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Referer"] = os.getenv("BENCH_REFERER")
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
