"""Backorders: from stored facts to decisions carried out for each order.

Evaluation of a shop's SKUs (`evaluation`: load, route, allocate, record, decide), dropship routing
of backordered lines (`dropship_routing`), the lifecycle applier (`lifecycle`: loads an order's
picture, runs `domain.decision`, enqueues, stores), the actions of one order (`order_actions`),
timers (`timers`), refund offers (`refunds`), what a customer may choose on their backorder page
(`customer_choices`) and what a shopper is told before buying (`availability`). May import
`domain`, `storage`, `shops`, `dispatch`, `supply`.
"""
