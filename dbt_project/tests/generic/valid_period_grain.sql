{#- A reporting grain the periods macro produces (period_grains(): day, week, month, quarter, all). -#}
{% test valid_period_grain(model, column_name) %}
select * from {{ model }}
where {{ column_name }} not in ('{{ period_grains() | join("', '") }}')
{% endtest %}
