DROP TABLE service_order_terms;
