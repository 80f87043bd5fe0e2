-- Public: police backup, EMS and concurrent police dispatch per month, small counts withheld.
{{ public_backup_requests('month') }}
