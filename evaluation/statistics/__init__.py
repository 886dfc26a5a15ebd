"""Statistics of human judgements: plain functions of numbers and pandas tables, each checked in
tests/evaluation against an independent computation or a published worked example."""
