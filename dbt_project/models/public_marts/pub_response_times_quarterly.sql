-- Public: response-time statistics per quarter and team, withheld when measured on few incidents or
-- when the quarter would give back a withheld month.
{{ public_response_times('quarter', monthly=ref('pub_response_times_monthly')) }}
