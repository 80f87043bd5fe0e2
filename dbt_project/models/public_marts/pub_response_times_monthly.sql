-- Public: response-time statistics per month and team, withheld when measured on few incidents.
{{ public_response_times('month') }}
