-- Ranges of journal sequence numbers a rebuild from the journal has copied (each committed together with
-- its rows), so that parallel copy streams can checkpoint independently and a resumed rebuild copies only
-- the ranges not listed here.
CREATE TABLE rp_rebuild_ranges (
    source   text   NOT NULL,
    from_seq bigint NOT NULL,   -- exclusive
    upto_seq bigint NOT NULL,   -- inclusive
    entries  bigint NOT NULL,
    PRIMARY KEY (source, from_seq)
);
