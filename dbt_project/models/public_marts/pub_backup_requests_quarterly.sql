-- Public: police backup, EMS and concurrent police dispatch per quarter, small counts withheld, and
-- no month's withheld count recoverable from the quarter.
{{ public_backup_requests('quarter', monthly=ref('pub_backup_requests_monthly')) }}
