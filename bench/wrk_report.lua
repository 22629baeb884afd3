-- Print wrk's summary as one JSON line the benchmark script reads (latencies in milliseconds).
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'JSON {"rps": %.2f, "requests": %d, "errors": %d, "p50": %.3f, "p95": %.3f, "p99": %.3f}\n',
    summary.requests / (summary.duration / 1e6), summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
