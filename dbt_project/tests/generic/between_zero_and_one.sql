{#- A share or rate: never below 0 or above 1 (null allowed where the denominator is zero). -#}
{% test between_zero_and_one(model, column_name) %}
select * from {{ model }} where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
