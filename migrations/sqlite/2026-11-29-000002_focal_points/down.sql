DROP TABLE focal_point_terms;
DROP TABLE focal_point_themes;
DROP TABLE focal_point_countries;
DROP TABLE focal_points;
