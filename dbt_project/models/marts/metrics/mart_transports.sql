-- Share of served incidents (with a linked encounter) where the program transported the person,
-- overall ('any') and by destination type.
{{ share_of_served_by_type(
    ref('stg_case_management__transports'), 'destination_type', 'has_program_transport', 'incidents_with_transport'
) }}
