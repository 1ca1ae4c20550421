DROP INDEX activities_of_agency;
